import type { Database } from './database.js';
import { ensureMlflowSchema } from './revision.js';
import { parseDatabaseUri } from './uri.js';
import type { PostgresOptions } from './postgres.js';
import type { SqliteOptions } from './sqlite.js';

export interface OpenDatabaseOptions {
  /** The project root: a relative SQLite path is taken from it. */
  readonly root: string;
  readonly sqlite?: SqliteOptions;
  readonly postgres?: PostgresOptions;
}

/** Opens the database at a `sqlite:` or `postgresql:` URI; each driver is loaded only when used. */
export async function openDatabase(uri: string, options: OpenDatabaseOptions): Promise<Database> {
  const location = parseDatabaseUri(uri, options.root);
  if (location.dialect === 'sqlite') return (await import('./sqlite.js')).openSqlite(location, uri, options.sqlite);
  return (await import('./postgres.js')).openPostgres(location, uri, options.postgres);
}

/**
 * Opens the database and makes sure it holds MLflow's schema (created when empty; see revision.ts),
 * as every SQL-backed store needs. `notice` receives lines for the user.
 */
export async function openMlflowDatabase(uri: string, options: OpenDatabaseOptions & { readonly notice?: (line: string) => void }): Promise<Database> {
  const db = await openDatabase(uri, options);
  try {
    await ensureMlflowSchema(db, options.notice);
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}
