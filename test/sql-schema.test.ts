import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Database } from '../src/sql/database.js';
import { openMlflowDatabase } from '../src/sql/open.js';
import { tempDir } from './helpers.js';
import { postgresDatabase } from './postgres.js';

// Our tables against MLflow 2.22's schema definition, as `mlflow db upgrade` leaves a PostgreSQL
// database at revision 6953534de441 (its pg_dump, transcribed here as data): every table, column, type,
// NOT NULL, primary key, foreign key and index. Read back from the database's own catalog, so the test
// checks what was created, not what we meant to create. `!` marks NOT NULL.

interface Expected {
  columns: string;
  pk: string;
  fks?: string[];
  indexes?: string[];
}

const MLFLOW_2_22: Record<string, Expected> = {
  alembic_version: { columns: 'version_num VARCHAR(32)!', pk: 'version_num' },
  experiments: {
    columns: 'experiment_id INTEGER!, name VARCHAR(256)!, artifact_location VARCHAR(256), lifecycle_stage VARCHAR(32), creation_time BIGINT, last_update_time BIGINT',
    pk: 'experiment_id',
  },
  experiment_tags: { columns: 'key VARCHAR(250)!, value VARCHAR(5000), experiment_id INTEGER!', pk: 'key, experiment_id', fks: ['experiment_id -> experiments(experiment_id)'] },
  runs: {
    columns:
      'run_uuid VARCHAR(32)!, name VARCHAR(250), source_type VARCHAR(20), source_name VARCHAR(500), entry_point_name VARCHAR(50), user_id VARCHAR(256), ' +
      'status VARCHAR(9), start_time BIGINT, end_time BIGINT, source_version VARCHAR(50), lifecycle_stage VARCHAR(20), artifact_uri VARCHAR(200), ' +
      'experiment_id INTEGER, deleted_time BIGINT',
    pk: 'run_uuid',
    fks: ['experiment_id -> experiments(experiment_id)'],
  },
  tags: { columns: 'key VARCHAR(250)!, value VARCHAR(8000), run_uuid VARCHAR(32)!', pk: 'key, run_uuid', fks: ['run_uuid -> runs(run_uuid)'], indexes: ['index_tags_run_uuid(run_uuid)'] },
  params: { columns: 'key VARCHAR(250)!, value VARCHAR(8000)!, run_uuid VARCHAR(32)!', pk: 'key, run_uuid', fks: ['run_uuid -> runs(run_uuid)'], indexes: ['index_params_run_uuid(run_uuid)'] },
  metrics: {
    columns: 'key VARCHAR(250)!, value FLOAT!, timestamp BIGINT!, run_uuid VARCHAR(32)!, step BIGINT!, is_nan BOOLEAN!',
    pk: 'key, timestamp, step, run_uuid, value, is_nan',
    fks: ['run_uuid -> runs(run_uuid)'],
    indexes: ['index_metrics_run_uuid(run_uuid)'],
  },
  latest_metrics: {
    columns: 'key VARCHAR(250)!, value FLOAT!, timestamp BIGINT, step BIGINT!, is_nan BOOLEAN!, run_uuid VARCHAR(32)!',
    pk: 'key, run_uuid',
    fks: ['run_uuid -> runs(run_uuid)'],
    indexes: ['index_latest_metrics_run_uuid(run_uuid)'],
  },
  registered_models: { columns: 'name VARCHAR(256)!, creation_time BIGINT, last_updated_time BIGINT, description VARCHAR(5000)', pk: 'name' },
  model_versions: {
    columns:
      'name VARCHAR(256)!, version INTEGER!, creation_time BIGINT, last_updated_time BIGINT, description VARCHAR(5000), user_id VARCHAR(256), ' +
      'current_stage VARCHAR(20), source VARCHAR(500), run_id VARCHAR(32), status VARCHAR(20), status_message VARCHAR(500), run_link VARCHAR(500), storage_location VARCHAR(500)',
    pk: 'name, version',
    fks: ['name -> registered_models(name)'],
  },
  registered_model_tags: { columns: 'key VARCHAR(250)!, value VARCHAR(5000), name VARCHAR(256)!', pk: 'key, name', fks: ['name -> registered_models(name)'] },
  model_version_tags: {
    columns: 'key VARCHAR(250)!, value VARCHAR(5000), name VARCHAR(256)!, version INTEGER!',
    pk: 'key, name, version',
    fks: ['name, version -> model_versions(name, version)'],
  },
  registered_model_aliases: { columns: 'alias VARCHAR(256)!, version INTEGER!, name VARCHAR(256)!', pk: 'name, alias', fks: ['name -> registered_models(name)'] },
  datasets: {
    columns:
      'dataset_uuid VARCHAR(36)!, experiment_id INTEGER!, name VARCHAR(500)!, digest VARCHAR(36)!, dataset_source_type VARCHAR(36)!, dataset_source TEXT!, dataset_schema TEXT, dataset_profile TEXT',
    pk: 'experiment_id, name, digest',
    fks: ['experiment_id -> experiments(experiment_id)'],
    indexes: ['index_datasets_dataset_uuid(dataset_uuid)', 'index_datasets_experiment_id_dataset_source_type(experiment_id, dataset_source_type)'],
  },
  inputs: {
    columns: 'input_uuid VARCHAR(36)!, source_type VARCHAR(36)!, source_id VARCHAR(36)!, destination_type VARCHAR(36)!, destination_id VARCHAR(36)!, step BIGINT!',
    pk: 'source_type, source_id, destination_type, destination_id',
    indexes: ['index_inputs_destination_type_destination_id_source_type(destination_type, destination_id, source_type)', 'index_inputs_input_uuid(input_uuid)'],
  },
  input_tags: { columns: 'input_uuid VARCHAR(36)!, name VARCHAR(255)!, value VARCHAR(500)!', pk: 'input_uuid, name' },
  trace_info: {
    columns: 'request_id VARCHAR(50)!, experiment_id INTEGER!, timestamp_ms BIGINT!, execution_time_ms BIGINT, status VARCHAR(50)!',
    pk: 'request_id',
    fks: ['experiment_id -> experiments(experiment_id)'],
    indexes: ['index_trace_info_experiment_id_timestamp_ms(experiment_id, timestamp_ms)'],
  },
  trace_request_metadata: {
    columns: 'key VARCHAR(250)!, value VARCHAR(8000), request_id VARCHAR(50)!',
    pk: 'key, request_id',
    fks: ['request_id -> trace_info(request_id)'],
    indexes: ['index_trace_request_metadata_request_id(request_id)'],
  },
  trace_tags: {
    columns: 'key VARCHAR(250)!, value VARCHAR(8000), request_id VARCHAR(50)!',
    pk: 'key, request_id',
    fks: ['request_id -> trace_info(request_id)'],
    indexes: ['index_trace_tags_request_id(request_id)'],
  },
  logged_models: {
    columns:
      'model_id VARCHAR(36)!, experiment_id INTEGER!, name VARCHAR(500)!, artifact_location VARCHAR(1000)!, creation_timestamp_ms BIGINT!, last_updated_timestamp_ms BIGINT!, ' +
      'status INTEGER!, lifecycle_stage VARCHAR(32), model_type VARCHAR(500), source_run_id VARCHAR(32), status_message VARCHAR(1000)',
    pk: 'model_id',
    fks: ['experiment_id -> experiments(experiment_id)'],
  },
  logged_model_metrics: {
    columns:
      'model_id VARCHAR(36)!, metric_name VARCHAR(500)!, metric_timestamp_ms BIGINT!, metric_step BIGINT!, metric_value FLOAT, experiment_id INTEGER!, run_id VARCHAR(32)!, ' +
      'dataset_uuid VARCHAR(36), dataset_name VARCHAR(500), dataset_digest VARCHAR(36)',
    pk: 'model_id, metric_name, metric_timestamp_ms, metric_step, run_id',
    fks: ['experiment_id -> experiments(experiment_id)', 'model_id -> logged_models(model_id)', 'run_id -> runs(run_uuid)'],
    indexes: ['index_logged_model_metrics_model_id(model_id)'],
  },
  logged_model_params: {
    columns: 'model_id VARCHAR(36)!, experiment_id INTEGER!, param_key VARCHAR(255)!, param_value TEXT!',
    pk: 'model_id, param_key',
    fks: ['experiment_id -> experiments(experiment_id)', 'model_id -> logged_models(model_id)'],
  },
  logged_model_tags: {
    columns: 'model_id VARCHAR(36)!, experiment_id INTEGER!, tag_key VARCHAR(255)!, tag_value TEXT!',
    pk: 'model_id, tag_key',
    fks: ['experiment_id -> experiments(experiment_id)', 'model_id -> logged_models(model_id)'],
  },
};

interface Actual {
  columns: string;
  pk: string;
  fks: string[];
  indexes: string[];
}

const PG_TYPES: Record<string, string> = { integer: 'INTEGER', bigint: 'BIGINT', 'double precision': 'FLOAT', boolean: 'BOOLEAN', text: 'TEXT' };

async function postgresCatalog(db: Database): Promise<Record<string, Actual>> {
  const out: Record<string, Actual> = {};
  const columns = await db.query<{ table_name: string; column_name: string; data_type: string; character_maximum_length: number | null; is_nullable: string }>(
    `SELECT table_name, column_name, data_type, character_maximum_length, is_nullable FROM information_schema.columns
     WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
  );
  for (const c of columns) {
    const type = c.data_type === 'character varying' ? `VARCHAR(${c.character_maximum_length})` : PG_TYPES[c.data_type] ?? c.data_type;
    const entry = (out[c.table_name] ??= { columns: '', pk: '', fks: [], indexes: [] });
    entry.columns += `${entry.columns ? ', ' : ''}${c.column_name} ${type}${c.is_nullable === 'NO' ? '!' : ''}`;
  }
  const keys = await db.query<{ table: string; type: string; columns: string; ref_table: string | null; ref_columns: string | null }>(
    `SELECT c.conrelid::regclass::text AS table, c.contype AS type,
       (SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,
       c.confrelid::regclass::text AS ref_table,
       (SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS ref_columns
     FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema() AND c.contype IN ('p', 'f')`,
  );
  for (const k of keys) {
    if (k.type === 'p') out[k.table]!.pk = k.columns;
    else out[k.table]!.fks.push(`${k.columns} -> ${k.ref_table}(${k.ref_columns})`);
  }
  const indexes = await db.query<{ tablename: string; indexname: string; indexdef: string }>(
    "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE 'index\\_%'",
  );
  for (const i of indexes) out[i.tablename]!.indexes.push(`${i.indexname}(${/\((.*)\)$/.exec(i.indexdef)![1]!.replace(/"/g, '')})`);
  return out;
}

async function sqliteCatalog(db: Database): Promise<Record<string, Actual>> {
  const out: Record<string, Actual> = {};
  const tables = await db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  for (const { name } of tables) {
    const info = await db.query<{ name: string; type: string; notnull: number; pk: number }>(`PRAGMA table_info("${name}")`);
    const fks = await db.query<{ id: number; table: string; from: string; to: string }>(`PRAGMA foreign_key_list("${name}")`);
    const byId = new Map<number, { table: string; from: string[]; to: string[] }>();
    for (const f of fks) {
      const fk = byId.get(f.id) ?? { table: f.table, from: [], to: [] };
      fk.from.push(f.from);
      fk.to.push(f.to);
      byId.set(f.id, fk);
    }
    const indexes: string[] = [];
    for (const i of await db.query<{ name: string; origin: string }>(`PRAGMA index_list("${name}")`)) {
      if (i.origin !== 'c') continue; // made by CREATE INDEX, not for a key
      const cols = await db.query<{ name: string }>(`PRAGMA index_info("${i.name}")`);
      indexes.push(`${i.name}(${cols.map((c) => c.name).join(', ')})`);
    }
    out[name] = {
      columns: info.map((c) => `${c.name} ${c.type}${c.notnull ? '!' : ''}`).join(', '),
      pk: info.filter((c) => c.pk).sort((a, b) => a.pk - b.pk).map((c) => c.name).join(', '),
      fks: [...byId.values()].map((f) => `${f.from.join(', ')} -> ${f.table}(${f.to.join(', ')})`),
      indexes,
    };
  }
  return out;
}

function compareWithMlflow(actual: Record<string, Actual>): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(MLFLOW_2_22).sort(), 'the same tables');
  for (const [table, want] of Object.entries(MLFLOW_2_22)) {
    const got = actual[table]!;
    assert.equal(got.columns, want.columns, `${table}: columns, types and NOT NULL`);
    assert.equal(got.pk, want.pk, `${table}: primary key`);
    assert.deepEqual([...got.fks].sort(), [...(want.fks ?? [])].sort(), `${table}: foreign keys`);
    assert.deepEqual([...got.indexes].sort(), [...(want.indexes ?? [])].sort(), `${table}: indexes`);
  }
}

async function openFresh(t: TestContext, uri: string): Promise<Database> {
  const db = await openMlflowDatabase(uri, { root: '/' });
  t.after(() => db.close());
  return db;
}

test("PostgreSQL: a new database's tables are MLflow 2.22's, column for column", async (t) => {
  const uri = await postgresDatabase(t, 'schema');
  if (!uri) return;
  const db = await openFresh(t, uri);
  compareWithMlflow(await postgresCatalog(db));
  const [seq] = await db.query<{ seq: string | null }>("SELECT pg_get_serial_sequence('experiments', 'experiment_id') AS seq");
  assert.equal(seq?.seq, 'public.experiments_experiment_id_seq', 'experiment ids come from the sequence MLflow names');
});

test("SQLite: a new database's tables are MLflow 2.22's, column for column", async (t) => {
  const db = await openFresh(t, `sqlite:///${join(tempDir(t), 'mlflow.db')}`);
  compareWithMlflow(await sqliteCatalog(db));
  const [mode] = await db.query<{ journal_mode: string }>('PRAGMA journal_mode');
  assert.equal(mode?.journal_mode, 'wal');
});
