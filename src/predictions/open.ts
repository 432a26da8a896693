import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { MlopsError, UsageError } from '../core/errors.js';
import { valueError, type ConfigValue } from '../project/config.js';
import type { Project } from '../project/project.js';
import { openDatabase, type OpenDatabaseOptions } from '../sql/open.js';
import { databaseDialect, parseDatabaseUri } from '../sql/uri.js';
import { BatchedPredictionLog, type PredictionSink } from './batched.js';
import type { LabelWriter } from './labels.js';
import type { PredictionReader } from './reader.js';
import type { PredictionLog } from './record.js';

// Where the prediction log lives, chosen by URI scheme as MLflow picks a store: `predictions.uri` in
// .mlops/config is a SQLite file path, a `sqlite:` URI (SQLAlchemy's form, as MLflow users write
// it: `sqlite:///relative.db`, `sqlite:////absolute.db`) or a `postgresql://` URI for a team;
// `.mlops/predictions.db` when unset. Both are the same SQL store over src/sql/.

/** One backend: how to open its writer side and its reader side. */
export interface PredictionBackend {
  sink(): Promise<PredictionSink>;
  /** The same sink, written by a worker thread of its own (what a server logs through, see thread-sink.ts). */
  threadSink(): Promise<PredictionSink>;
  reader(): Promise<PredictionReader>;
  /** Where outcomes are loaded (the log's own database; made when missing). */
  labelWriter(): Promise<LabelWriter>;
}

// A server's writer waits for another worker's SQLite lock only briefly (better-sqlite3's wait blocks
// its thread) and retries with pauses instead; PostgreSQL needs few connections for one writer.
// A log is read and written as a stream, so its pages are not memory-mapped: a server's or a drift
// check's resident memory stays what it holds, not the size of the log file (1.2 GB against 0.43 GB
// for a drift check over a million rows).
const WRITER: Omit<OpenDatabaseOptions, 'root'> = { sqlite: { busyTimeoutMs: 5, attempts: 60, mapped: false }, postgres: { poolSize: 2 } };
const READER: Omit<OpenDatabaseOptions, 'root'> = { sqlite: { mapped: false }, postgres: { poolSize: 1 } };

const EMPTY: PredictionReader = {
  async *rows() {},
  async *inputs() {},
  count: async () => 0,
  labels: async () => [],
  close: async () => {},
};

/** The backend at `uri`: a plain path is a SQLite file (relative to `root`). */
export function predictionBackend(uri: string, root: string): PredictionBackend {
  const dbUri = databaseDialect(uri) !== undefined ? uri : /^[A-Za-z][A-Za-z0-9+.-]+:/.test(uri) ? undefined : `sqlite:///${isAbsolute(uri) ? uri : resolve(root, uri)}`;
  if (dbUri === undefined) throw new UsageError(`prediction log URI '${uri}': expected a SQLite file path, sqlite:///path or postgresql://user@host:port/db`);
  const location = parseDatabaseUri(dbUri, root);
  const store = async (options: Omit<OpenDatabaseOptions, 'root'>) => {
    const [{ SqlPredictionStore }, db] = await Promise.all([import('./sql-store.js'), openDatabase(dbUri, { root, ...options })]);
    return SqlPredictionStore.create(db);
  };
  return {
    sink: () => store(WRITER),
    threadSink: async () => (await import('./thread-sink.js')).openThreadSink({ uri, root }),
    // Reading a log never written makes no file.
    reader: async () => (location.dialect === 'sqlite' && !existsSync(location.path) ? EMPTY : store(READER)),
    labelWriter: () => store(READER),
  };
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30d`, `12h`, `90m`, `45s`, `2w` -> ms; `forever` (or `never`) -> undefined (keep every row). */
export function parseRetention(text: string): number | undefined {
  if (/^(forever|never|none)$/i.test(text.trim())) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(text.trim());
  if (!m || !(Number(m[1]) > 0)) throw new UsageError(`expected a duration like 30d, 12h, 90m, 2w (or forever), got ${JSON.stringify(text)}`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

export const DEFAULT_PREDICTIONS_FILE = 'predictions.db';

/** The log's URI: `predictions.uri`, else the default file in .mlops/. */
export function predictionLogUri(project: Project): string {
  return project.config.get('predictions.uri')?.value ?? join(project.mlopsDir, DEFAULT_PREDICTIONS_FILE);
}

/** What `use` makes of a setting; when the setting came from the config, a bad one is named by file, line and key. */
async function checked<T>(value: ConfigValue | undefined, use: () => T | Promise<T>): Promise<T> {
  try {
    return await use();
  } catch (error) {
    if (value && error instanceof MlopsError) throw valueError(value, error.message);
    throw error;
  }
}

const backend = (project: Project) => checked(project.config.get('predictions.uri'), () => predictionBackend(predictionLogUri(project), project.root));

export interface LogOptions {
  /** Overrides `predictions.retention` (a serve flag). */
  readonly retention?: string;
  readonly onError: (error: Error) => void;
  readonly intervalMs?: number;
}

/** The writer a server logs through, batched; a bad setting fails here, before the server listens. */
export async function openPredictionLog(project: Project, options: LogOptions): Promise<PredictionLog> {
  const configured = options.retention === undefined ? project.config.get('predictions.retention') : undefined;
  const text = options.retention ?? configured?.value;
  const retentionMs = await checked(configured, () => (text === undefined ? undefined : parseRetention(text)));
  const sink = await (await backend(project)).threadSink();
  return new BatchedPredictionLog(sink, options.onError, { retentionMs, intervalMs: options.intervalMs });
}

/** Where `mlops predictions label` loads outcomes. */
export async function openLabelWriter(project: Project): Promise<LabelWriter> {
  return (await backend(project)).labelWriter();
}

/** The reader `mlops predictions` and monitoring use. */
export async function openPredictionReader(project: Project): Promise<PredictionReader> {
  return (await backend(project)).reader();
}
