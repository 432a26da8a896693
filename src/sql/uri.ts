import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { Dialect } from './database.js';

// Database URIs as MLflow (SQLAlchemy) writes them: `sqlite:///relative.db`, `sqlite:////abs/path.db`,
// `postgresql://user:password@host:port/db`, with an optional driver (`postgresql+psycopg2://`).

export interface SqliteLocation {
  readonly dialect: 'sqlite';
  /** An absolute path, or `:memory:`. */
  readonly path: string;
  readonly shown: string;
}

export interface PostgresLocation {
  readonly dialect: 'postgresql';
  /** For the driver: the URI with its scheme as node-postgres reads it. */
  readonly connectionString: string;
  readonly host: string;
  readonly port: number;
  readonly user: string | undefined;
  readonly database: string;
  /** The URI without its password, for messages. */
  readonly shown: string;
}

export type DatabaseLocation = SqliteLocation | PostgresLocation;

const SCHEME = /^([A-Za-z][A-Za-z0-9.-]*)(?:\+[A-Za-z0-9_]+)?:\/\//;
const DIALECTS: Readonly<Record<string, Dialect>> = { sqlite: 'sqlite', postgresql: 'postgresql', postgres: 'postgresql' };

/** The dialect a URI names, or undefined when it is not a database URI. */
export function databaseDialect(uri: string): Dialect | undefined {
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  return scheme === undefined ? undefined : DIALECTS[scheme];
}

/** Takes a database URI apart; a relative SQLite path is taken from `root` (the project root). */
export function parseDatabaseUri(uri: string, root: string): DatabaseLocation {
  const dialect = databaseDialect(uri);
  const rest = uri.replace(SCHEME, '');
  if (dialect === 'sqlite') return { dialect, path: sqlitePath(uri, rest, root), shown: uri };
  if (dialect === 'postgresql') return postgresLocation(uri, rest);
  throw new UsageError(`'${uri}': not a database URI (expected sqlite:///path or postgresql://user@host:port/db)`);
}

function sqlitePath(uri: string, rest: string, root: string): string {
  const path = rest.replace(/\?.*$/, '');
  if (path === '' || path === '/:memory:') return ':memory:';
  if (!path.startsWith('/')) {
    throw new UsageError(`'${uri}': a SQLite URI has three slashes before the path (sqlite:///mlflow.db, or four for an absolute path: sqlite:////data/mlflow.db)`);
  }
  const file = decodeURIComponent(path.slice(1));
  return isAbsolute(file) ? file : resolve(root, file);
}

function postgresLocation(uri: string, rest: string): PostgresLocation {
  let url: URL;
  try {
    url = new URL(`postgresql://${rest}`);
  } catch {
    throw new UsageError(`'${withoutPassword(uri)}': not a valid PostgreSQL URI (expected postgresql://user@host:port/db)`);
  }
  const host = url.hostname || 'localhost';
  const port = url.port === '' ? 5432 : Number(url.port);
  const user = url.username === '' ? undefined : decodeURIComponent(url.username);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) {
    throw new UsageError(`'${withoutPassword(uri)}': name the database after the host (postgresql://user@${host}:${port}/mlflow)`);
  }
  url.password = '';
  return { dialect: 'postgresql', connectionString: `postgresql://${rest}`, host, port, user, database, shown: url.href };
}

/** The URI with any password replaced, for messages about a URI that could not be parsed. */
export function withoutPassword(uri: string): string {
  return uri.replace(/^([^:/]+:\/\/[^:/@]*):[^@/]*@/, '$1@');
}
