import type { Dialect, Queryable } from './database.js';

// MLflow's database schema at the alembic revision MLflow 2.22 creates (6953534de441), written here as
// data: the tables, columns, types, keys, checks and indexes, as `mlflow server` leaves a new database.
// `mlflow ui` of that version opens such a database as its own, and later versions after their usual
// `mlflow db upgrade`. Every table is created, the ones we do not write (traces, datasets, logged
// models) too, since MLflow's queries join them.

export const MLFLOW_SCHEMA_REVISION = '6953534de441';
export const MLFLOW_SCHEMA_VERSION = 'MLflow 2.22';

/**
 * The revisions before ours, oldest first (MLflow's alembic chain): a database at one of these must be
 * upgraded by MLflow first; one at a revision not listed is taken for a newer MLflow's.
 */
export const OLDER_REVISIONS: readonly string[] = [
  '451aebb31d03', '90e64c465722', '181f10493468', 'df50e92ffc5e', '7ac759974ad8', '89d4b8295536',
  '2b4d017a5e9b', 'cfd24bdc0731', '0a8213491aaa', '728d730b5ebd', '27a6a02d2cf1', '84291f40a231',
  'a8c4a736bde6', '39d1c3be5f05', 'c48cb773bb87', 'bd07f7e963c5', '0c779009ac13', 'cc1f77228345',
  '97727af70f4d', '3500859a5d39', '7f2a7d5fae7d', '2d6e25af4d3e', 'acf3f17fdcc7', '867495a8f9d4',
  '5b0e9adcef9c', '4465047574b1', 'f5a4f2784254', '0584bdc529eb', '400f98739977',
];

export interface Column {
  readonly name: string;
  /** The type as SQLAlchemy declares it: VARCHAR(n), INTEGER, BIGINT, FLOAT, BOOLEAN, TEXT. */
  readonly type: string;
  readonly notNull: boolean;
  readonly default?: number | boolean;
  /** Filled from a sequence when not given (experiments.experiment_id). */
  readonly autoIncrement?: boolean;
}

export interface ForeignKey {
  readonly name?: string;
  readonly columns: readonly string[];
  readonly table: string;
  readonly references: readonly string[];
  readonly onDelete?: 'CASCADE';
  readonly onUpdate?: 'CASCADE';
}

export interface Table {
  readonly name: string;
  readonly columns: readonly Column[];
  readonly primaryKey: { readonly name: string; readonly columns: readonly string[] };
  readonly unique?: readonly (readonly string[])[];
  readonly foreignKeys?: readonly ForeignKey[];
  /** `column IN (values)` checks, by constraint name. */
  readonly checks?: readonly { readonly name: string; readonly column: string; readonly values: readonly string[] }[];
  readonly indexes?: readonly { readonly name: string; readonly columns: readonly string[] }[];
}

const req = (name: string, type: string, extra: Partial<Column> = {}): Column => ({ name, type, notNull: true, ...extra });
const opt = (name: string, type: string): Column => ({ name, type, notNull: false });
const fk = (columns: string[], table: string, references: string[], more: Partial<ForeignKey> = {}): ForeignKey => ({ columns, table, references, ...more });
const index = (table: string, ...columns: string[]) => ({ name: `index_${table}_${columns.join('_')}`, columns });
const LIFECYCLE = ['active', 'deleted'];

export const MLFLOW_TABLES: readonly Table[] = [
  { name: 'alembic_version', columns: [req('version_num', 'VARCHAR(32)')], primaryKey: { name: 'alembic_version_pkc', columns: ['version_num'] } },
  {
    name: 'experiments',
    columns: [
      req('experiment_id', 'INTEGER', { autoIncrement: true }), req('name', 'VARCHAR(256)'), opt('artifact_location', 'VARCHAR(256)'),
      opt('lifecycle_stage', 'VARCHAR(32)'), opt('creation_time', 'BIGINT'), opt('last_update_time', 'BIGINT'),
    ],
    primaryKey: { name: 'experiment_pk', columns: ['experiment_id'] },
    unique: [['name']],
    checks: [{ name: 'experiments_lifecycle_stage', column: 'lifecycle_stage', values: LIFECYCLE }],
  },
  {
    name: 'experiment_tags',
    columns: [req('key', 'VARCHAR(250)'), opt('value', 'VARCHAR(5000)'), req('experiment_id', 'INTEGER')],
    primaryKey: { name: 'experiment_tag_pk', columns: ['key', 'experiment_id'] },
    foreignKeys: [fk(['experiment_id'], 'experiments', ['experiment_id'])],
  },
  {
    name: 'runs',
    columns: [
      req('run_uuid', 'VARCHAR(32)'), opt('name', 'VARCHAR(250)'), opt('source_type', 'VARCHAR(20)'), opt('source_name', 'VARCHAR(500)'),
      opt('entry_point_name', 'VARCHAR(50)'), opt('user_id', 'VARCHAR(256)'), opt('status', 'VARCHAR(9)'), opt('start_time', 'BIGINT'),
      opt('end_time', 'BIGINT'), opt('source_version', 'VARCHAR(50)'), opt('lifecycle_stage', 'VARCHAR(20)'), opt('artifact_uri', 'VARCHAR(200)'),
      opt('experiment_id', 'INTEGER'), opt('deleted_time', 'BIGINT'),
    ],
    primaryKey: { name: 'run_pk', columns: ['run_uuid'] },
    foreignKeys: [fk(['experiment_id'], 'experiments', ['experiment_id'])],
    checks: [
      { name: 'runs_lifecycle_stage', column: 'lifecycle_stage', values: LIFECYCLE },
      { name: 'source_type', column: 'source_type', values: ['NOTEBOOK', 'JOB', 'LOCAL', 'UNKNOWN', 'PROJECT'] },
      { name: 'runs_status_check', column: 'status', values: ['SCHEDULED', 'FAILED', 'FINISHED', 'RUNNING', 'KILLED'] },
    ],
  },
  {
    name: 'tags',
    columns: [req('key', 'VARCHAR(250)'), opt('value', 'VARCHAR(8000)'), req('run_uuid', 'VARCHAR(32)')],
    primaryKey: { name: 'tag_pk', columns: ['key', 'run_uuid'] },
    foreignKeys: [fk(['run_uuid'], 'runs', ['run_uuid'])],
    indexes: [index('tags', 'run_uuid')],
  },
  {
    name: 'params',
    columns: [req('key', 'VARCHAR(250)'), req('value', 'VARCHAR(8000)'), req('run_uuid', 'VARCHAR(32)')],
    primaryKey: { name: 'param_pk', columns: ['key', 'run_uuid'] },
    foreignKeys: [fk(['run_uuid'], 'runs', ['run_uuid'])],
    indexes: [index('params', 'run_uuid')],
  },
  {
    name: 'metrics',
    columns: [
      req('key', 'VARCHAR(250)'), req('value', 'FLOAT'), req('timestamp', 'BIGINT'), req('run_uuid', 'VARCHAR(32)'),
      req('step', 'BIGINT', { default: 0 }), req('is_nan', 'BOOLEAN', { default: false }),
    ],
    primaryKey: { name: 'metric_pk', columns: ['key', 'timestamp', 'step', 'run_uuid', 'value', 'is_nan'] },
    foreignKeys: [fk(['run_uuid'], 'runs', ['run_uuid'])],
    indexes: [index('metrics', 'run_uuid')],
  },
  {
    name: 'latest_metrics',
    columns: [
      req('key', 'VARCHAR(250)'), req('value', 'FLOAT'), opt('timestamp', 'BIGINT'), req('step', 'BIGINT'),
      req('is_nan', 'BOOLEAN'), req('run_uuid', 'VARCHAR(32)'),
    ],
    primaryKey: { name: 'latest_metric_pk', columns: ['key', 'run_uuid'] },
    foreignKeys: [fk(['run_uuid'], 'runs', ['run_uuid'])],
    indexes: [index('latest_metrics', 'run_uuid')],
  },
  {
    name: 'registered_models',
    columns: [req('name', 'VARCHAR(256)'), opt('creation_time', 'BIGINT'), opt('last_updated_time', 'BIGINT'), opt('description', 'VARCHAR(5000)')],
    primaryKey: { name: 'registered_model_pk', columns: ['name'] },
  },
  {
    name: 'model_versions',
    columns: [
      req('name', 'VARCHAR(256)'), req('version', 'INTEGER'), opt('creation_time', 'BIGINT'), opt('last_updated_time', 'BIGINT'),
      opt('description', 'VARCHAR(5000)'), opt('user_id', 'VARCHAR(256)'), opt('current_stage', 'VARCHAR(20)'), opt('source', 'VARCHAR(500)'),
      opt('run_id', 'VARCHAR(32)'), opt('status', 'VARCHAR(20)'), opt('status_message', 'VARCHAR(500)'), opt('run_link', 'VARCHAR(500)'),
      opt('storage_location', 'VARCHAR(500)'),
    ],
    primaryKey: { name: 'model_version_pk', columns: ['name', 'version'] },
    foreignKeys: [fk(['name'], 'registered_models', ['name'], { onUpdate: 'CASCADE' })],
  },
  {
    name: 'registered_model_tags',
    columns: [req('key', 'VARCHAR(250)'), opt('value', 'VARCHAR(5000)'), req('name', 'VARCHAR(256)')],
    primaryKey: { name: 'registered_model_tag_pk', columns: ['key', 'name'] },
    foreignKeys: [fk(['name'], 'registered_models', ['name'], { onUpdate: 'CASCADE' })],
  },
  {
    name: 'model_version_tags',
    columns: [req('key', 'VARCHAR(250)'), opt('value', 'VARCHAR(5000)'), req('name', 'VARCHAR(256)'), req('version', 'INTEGER')],
    primaryKey: { name: 'model_version_tag_pk', columns: ['key', 'name', 'version'] },
    foreignKeys: [fk(['name', 'version'], 'model_versions', ['name', 'version'], { onUpdate: 'CASCADE' })],
  },
  {
    name: 'registered_model_aliases',
    columns: [req('alias', 'VARCHAR(256)'), req('version', 'INTEGER'), req('name', 'VARCHAR(256)')],
    primaryKey: { name: 'registered_model_alias_pk', columns: ['name', 'alias'] },
    foreignKeys: [fk(['name'], 'registered_models', ['name'], { name: 'registered_model_alias_name_fkey', onDelete: 'CASCADE', onUpdate: 'CASCADE' })],
  },
  {
    name: 'datasets',
    columns: [
      req('dataset_uuid', 'VARCHAR(36)'), req('experiment_id', 'INTEGER'), req('name', 'VARCHAR(500)'), req('digest', 'VARCHAR(36)'),
      req('dataset_source_type', 'VARCHAR(36)'), req('dataset_source', 'TEXT'), opt('dataset_schema', 'TEXT'), opt('dataset_profile', 'TEXT'),
    ],
    primaryKey: { name: 'dataset_pk', columns: ['experiment_id', 'name', 'digest'] },
    foreignKeys: [fk(['experiment_id'], 'experiments', ['experiment_id'], { name: 'fk_datasets_experiment_id_experiments', onDelete: 'CASCADE' })],
    indexes: [index('datasets', 'dataset_uuid'), index('datasets', 'experiment_id', 'dataset_source_type')],
  },
  {
    name: 'inputs',
    columns: [
      req('input_uuid', 'VARCHAR(36)'), req('source_type', 'VARCHAR(36)'), req('source_id', 'VARCHAR(36)'),
      req('destination_type', 'VARCHAR(36)'), req('destination_id', 'VARCHAR(36)'), req('step', 'BIGINT', { default: 0 }),
    ],
    primaryKey: { name: 'inputs_pk', columns: ['source_type', 'source_id', 'destination_type', 'destination_id'] },
    indexes: [index('inputs', 'input_uuid'), index('inputs', 'destination_type', 'destination_id', 'source_type')],
  },
  {
    name: 'input_tags',
    columns: [req('input_uuid', 'VARCHAR(36)'), req('name', 'VARCHAR(255)'), req('value', 'VARCHAR(500)')],
    primaryKey: { name: 'input_tags_pk', columns: ['input_uuid', 'name'] },
  },
  {
    name: 'trace_info',
    columns: [
      req('request_id', 'VARCHAR(50)'), req('experiment_id', 'INTEGER'), req('timestamp_ms', 'BIGINT'),
      opt('execution_time_ms', 'BIGINT'), req('status', 'VARCHAR(50)'),
    ],
    primaryKey: { name: 'trace_info_pk', columns: ['request_id'] },
    foreignKeys: [fk(['experiment_id'], 'experiments', ['experiment_id'], { name: 'fk_trace_info_experiment_id' })],
    indexes: [index('trace_info', 'experiment_id', 'timestamp_ms')],
  },
  {
    name: 'trace_request_metadata',
    columns: [req('key', 'VARCHAR(250)'), opt('value', 'VARCHAR(8000)'), req('request_id', 'VARCHAR(50)')],
    primaryKey: { name: 'trace_request_metadata_pk', columns: ['key', 'request_id'] },
    foreignKeys: [fk(['request_id'], 'trace_info', ['request_id'], { name: 'fk_trace_request_metadata_request_id', onDelete: 'CASCADE' })],
    indexes: [index('trace_request_metadata', 'request_id')],
  },
  {
    name: 'trace_tags',
    columns: [req('key', 'VARCHAR(250)'), opt('value', 'VARCHAR(8000)'), req('request_id', 'VARCHAR(50)')],
    primaryKey: { name: 'trace_tag_pk', columns: ['key', 'request_id'] },
    foreignKeys: [fk(['request_id'], 'trace_info', ['request_id'], { name: 'fk_trace_tags_request_id', onDelete: 'CASCADE' })],
    indexes: [index('trace_tags', 'request_id')],
  },
  {
    name: 'logged_models',
    columns: [
      req('model_id', 'VARCHAR(36)'), req('experiment_id', 'INTEGER'), req('name', 'VARCHAR(500)'), req('artifact_location', 'VARCHAR(1000)'),
      req('creation_timestamp_ms', 'BIGINT'), req('last_updated_timestamp_ms', 'BIGINT'), req('status', 'INTEGER'),
      opt('lifecycle_stage', 'VARCHAR(32)'), opt('model_type', 'VARCHAR(500)'), opt('source_run_id', 'VARCHAR(32)'), opt('status_message', 'VARCHAR(1000)'),
    ],
    primaryKey: { name: 'logged_models_pk', columns: ['model_id'] },
    foreignKeys: [fk(['experiment_id'], 'experiments', ['experiment_id'], { name: 'fk_logged_models_experiment_id', onDelete: 'CASCADE' })],
    checks: [{ name: 'logged_models_lifecycle_stage_check', column: 'lifecycle_stage', values: LIFECYCLE }],
  },
  {
    name: 'logged_model_metrics',
    columns: [
      req('model_id', 'VARCHAR(36)'), req('metric_name', 'VARCHAR(500)'), req('metric_timestamp_ms', 'BIGINT'), req('metric_step', 'BIGINT'),
      opt('metric_value', 'FLOAT'), req('experiment_id', 'INTEGER'), req('run_id', 'VARCHAR(32)'), opt('dataset_uuid', 'VARCHAR(36)'),
      opt('dataset_name', 'VARCHAR(500)'), opt('dataset_digest', 'VARCHAR(36)'),
    ],
    primaryKey: { name: 'logged_model_metrics_pk', columns: ['model_id', 'metric_name', 'metric_timestamp_ms', 'metric_step', 'run_id'] },
    foreignKeys: [
      fk(['model_id'], 'logged_models', ['model_id'], { name: 'fk_logged_model_metrics_model_id', onDelete: 'CASCADE' }),
      fk(['experiment_id'], 'experiments', ['experiment_id'], { name: 'fk_logged_model_metrics_experiment_id' }),
      fk(['run_id'], 'runs', ['run_uuid'], { name: 'fk_logged_model_metrics_run_id', onDelete: 'CASCADE' }),
    ],
    indexes: [index('logged_model_metrics', 'model_id')],
  },
  {
    name: 'logged_model_params',
    columns: [req('model_id', 'VARCHAR(36)'), req('experiment_id', 'INTEGER'), req('param_key', 'VARCHAR(255)'), req('param_value', 'TEXT')],
    primaryKey: { name: 'logged_model_params_pk', columns: ['model_id', 'param_key'] },
    foreignKeys: [
      fk(['model_id'], 'logged_models', ['model_id'], { name: 'fk_logged_model_params_model_id', onDelete: 'CASCADE' }),
      fk(['experiment_id'], 'experiments', ['experiment_id'], { name: 'fk_logged_model_params_experiment_id' }),
    ],
  },
  {
    name: 'logged_model_tags',
    columns: [req('model_id', 'VARCHAR(36)'), req('experiment_id', 'INTEGER'), req('tag_key', 'VARCHAR(255)'), req('tag_value', 'TEXT')],
    primaryKey: { name: 'logged_model_tags_pk', columns: ['model_id', 'tag_key'] },
    foreignKeys: [
      fk(['model_id'], 'logged_models', ['model_id'], { name: 'fk_logged_model_tags_model_id', onDelete: 'CASCADE' }),
      fk(['experiment_id'], 'experiments', ['experiment_id'], { name: 'fk_logged_model_tags_experiment_id' }),
    ],
  },
];

const quote = (name: string) => `"${name}"`;
const list = (names: readonly string[]) => names.map(quote).join(', ');

function columnSql(column: Column, dialect: Dialect): string {
  // PostgreSQL fills an auto-increment column from a sequence (SERIAL: integer + experiments_experiment_id_seq);
  // in SQLite an INTEGER primary key is the rowid, filled the same way.
  const type = column.autoIncrement && dialect === 'postgresql' ? 'SERIAL' : column.type;
  let sql = `${quote(column.name)} ${type}`;
  if (column.default !== undefined) {
    // As SQLAlchemy writes them: quoted on SQLite ('0'), typed on PostgreSQL (0, false).
    sql += dialect === 'sqlite' ? ` DEFAULT '${Number(column.default)}'` : ` DEFAULT ${String(column.default)}`;
  }
  return column.notNull ? `${sql} NOT NULL` : sql;
}

/** The statements creating one table and its indexes. */
export function createTableSql(table: Table, dialect: Dialect): string[] {
  const parts = table.columns.map((c) => `  ${columnSql(c, dialect)}`);
  parts.push(`  CONSTRAINT ${table.primaryKey.name} PRIMARY KEY (${list(table.primaryKey.columns)})`);
  for (const columns of table.unique ?? []) parts.push(`  UNIQUE (${list(columns)})`);
  for (const key of table.foreignKeys ?? []) {
    const actions = `${key.onDelete ? ` ON DELETE ${key.onDelete}` : ''}${key.onUpdate ? ` ON UPDATE ${key.onUpdate}` : ''}`;
    parts.push(`  ${key.name ? `CONSTRAINT ${key.name} ` : ''}FOREIGN KEY (${list(key.columns)}) REFERENCES ${quote(key.table)} (${list(key.references)})${actions}`);
  }
  for (const check of table.checks ?? []) {
    parts.push(`  CONSTRAINT ${check.name} CHECK (${quote(check.column)} IN (${check.values.map((v) => `'${v}'`).join(', ')}))`);
  }
  // SQLite has no boolean type: SQLAlchemy keeps booleans to 0 and 1 with a check.
  if (dialect === 'sqlite') {
    for (const c of table.columns.filter((col) => col.type === 'BOOLEAN')) parts.push(`  CHECK (${quote(c.name)} IN (0, 1))`);
  }
  return [
    `CREATE TABLE ${quote(table.name)} (\n${parts.join(',\n')}\n)`,
    ...(table.indexes ?? []).map((i) => `CREATE INDEX ${i.name} ON ${quote(table.name)} (${list(i.columns)})`),
  ];
}

/** Creates every table in `tx` (in dependency order) and records the revision, as `mlflow db upgrade` would leave it. */
export async function createMlflowSchema(tx: Queryable): Promise<void> {
  for (const table of MLFLOW_TABLES) {
    for (const statement of createTableSql(table, tx.dialect)) await tx.run(statement);
  }
  await tx.run('INSERT INTO alembic_version (version_num) VALUES (?)', [MLFLOW_SCHEMA_REVISION]);
}
