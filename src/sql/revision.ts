import { ConfigError } from '../core/errors.js';
import type { Database, Queryable } from './database.js';
import { createMlflowSchema, MLFLOW_SCHEMA_REVISION, MLFLOW_SCHEMA_VERSION, OLDER_REVISIONS } from './mlflow-schema.js';

// A database is used only when it holds MLflow's schema at a revision we can write: an empty one gets
// MLflow 2.22's tables; one at that revision is used; one at a later revision (a newer MLflow) is used
// as it is, since later revisions only add tables, columns with defaults, and wider types; one at an
// earlier revision is refused with the command that upgrades it; anything else is not MLflow's.

/** The tables our stores read and write; a newer MLflow's database must still have them. */
const REQUIRED_TABLES = [
  'experiments', 'experiment_tags', 'runs', 'tags', 'params', 'metrics', 'latest_metrics',
  'registered_models', 'model_versions', 'registered_model_tags', 'model_version_tags', 'registered_model_aliases',
];

// A fresh PostgreSQL database is set up by one process at a time: the others wait on this lock
// (any constant: the key of a transaction-scoped advisory lock) and then find the tables made.
const SCHEMA_LOCK_KEY = 6953534;

/** Newer revisions already reported by this process, so the notice is given once. */
const noticed = new Set<string>();

async function tableNames(q: Queryable): Promise<string[]> {
  const rows =
    q.dialect === 'sqlite'
      ? await q.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      : await q.query<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()');
  return rows.map((r) => r.name);
}

/** What the database holds: nothing yet, MLflow's tables at a revision, or someone else's tables. */
async function inspect(q: Queryable): Promise<{ kind: 'empty' } | { kind: 'mlflow'; revision: string; tables: string[] } | { kind: 'foreign'; tables: string[] }> {
  const tables = await tableNames(q);
  if (tables.length === 0) return { kind: 'empty' };
  if (!tables.includes('alembic_version')) return { kind: 'foreign', tables };
  const rows = await q.query<{ version_num: string }>('SELECT version_num FROM alembic_version');
  return rows.length === 1 ? { kind: 'mlflow', revision: rows[0]!.version_num, tables } : { kind: 'foreign', tables };
}

/**
 * Makes sure `db` holds MLflow's schema at a revision we can write (see above), creating it in an
 * empty database. `notice` receives the one line saying a newer MLflow's database is used as it is.
 */
export async function ensureMlflowSchema(db: Database, notice: (line: string) => void = () => {}): Promise<void> {
  let state = await inspect(db);
  if (state.kind === 'empty') {
    state = await db.transaction(async (tx) => {
      if (tx.dialect === 'postgresql') await tx.query('SELECT pg_advisory_xact_lock(?)', [SCHEMA_LOCK_KEY]);
      const now = await inspect(tx); // another process may have created the tables meanwhile
      if (now.kind === 'empty') await createMlflowSchema(tx);
      return now.kind === 'empty' ? { kind: 'mlflow', revision: MLFLOW_SCHEMA_REVISION, tables: [] } : now;
    });
  }
  if (state.kind === 'foreign') {
    const some = state.tables.slice(0, 5).join(', ') + (state.tables.length > 5 ? ', ...' : '');
    throw new ConfigError(`${db.shown}: not an MLflow database (it has tables ${some} but no MLflow schema revision in alembic_version)`);
  }
  const { revision } = state;
  if (revision === MLFLOW_SCHEMA_REVISION) return;
  if (OLDER_REVISIONS.includes(revision)) {
    throw new ConfigError(
      `${db.shown}: MLflow schema revision ${revision} is older than ${MLFLOW_SCHEMA_VERSION}'s (${MLFLOW_SCHEMA_REVISION}); upgrade it first: mlflow db upgrade '${db.shown}'`,
    );
  }
  const missing = REQUIRED_TABLES.filter((t) => !state.tables.includes(t));
  if (state.tables.length > 0 && missing.length > 0) {
    throw new ConfigError(`${db.shown}: schema revision ${revision} is not one MLflow made (no ${missing.join(', ')} table${missing.length === 1 ? '' : 's'})`);
  }
  if (!noticed.has(db.shown)) {
    noticed.add(db.shown);
    notice(`notice: ${db.shown} is at MLflow schema revision ${revision}, newer than ${MLFLOW_SCHEMA_VERSION}'s (${MLFLOW_SCHEMA_REVISION}); using it as it is`);
  }
}
