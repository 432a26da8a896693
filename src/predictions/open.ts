import { isAbsolute, join, resolve } from 'node:path';
import { MlopsError, UsageError } from '../core/errors.js';
import { valueError, type ConfigValue } from '../project/config.js';
import type { Project } from '../project/project.js';
import { StoreRegistry, type StoreLocation } from '../project/stores.js';
import { BatchedPredictionLog, type PredictionSink } from './batched.js';
import type { PredictionReader } from './reader.js';
import type { PredictionLog } from './record.js';

// Where the prediction log lives, chosen by URI scheme as MLflow picks a store: `predictions.uri` in
// .mlops/config, a plain path or `sqlite:` (SQLAlchemy's form, as MLflow users write it:
// `sqlite:///relative.db`, `sqlite:////absolute.db`); `.mlops/predictions.db` when unset.

/** One backend: how to open its writer side and its reader side. */
export interface PredictionBackend {
  sink(): Promise<PredictionSink>;
  reader(): Promise<PredictionReader>;
}

const sqliteAt = (path: string): PredictionBackend => ({
  sink: async () => (await import('./sqlite.js')).SqlitePredictionStore.openWriter(path),
  reader: async () => (await import('./sqlite.js')).SqlitePredictionStore.openReader(path),
});

/** `sqlite:///rel.db` (from the project root), `sqlite:////abs.db`; a bare `sqlite:rel.db` too. */
function sqlitePath(location: StoreLocation, root: string): string {
  const rest = location.uri.replace(/^sqlite:/i, '');
  const path = rest.startsWith('//') ? rest.slice(3) : rest;
  if (path === '' || path.includes('?')) throw new UsageError(`prediction log URI '${location.uri}': expected sqlite:///path/to/file.db`);
  return isAbsolute(path) ? path : resolve(root, path);
}

export const PREDICTION_BACKENDS = new StoreRegistry<PredictionBackend>('prediction log', {
  file: (location) => sqliteAt(location.path),
  sqlite: (location, root) => sqliteAt(sqlitePath(location, root)),
});

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

const backend = (project: Project) => checked(project.config.get('predictions.uri'), () => PREDICTION_BACKENDS.open(predictionLogUri(project), project.root));

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
  const sink = await (await backend(project)).sink();
  return new BatchedPredictionLog(sink, options.onError, { retentionMs, intervalMs: options.intervalMs });
}

/** The reader `mlops predictions` and monitoring use. */
export async function openPredictionReader(project: Project): Promise<PredictionReader> {
  return (await backend(project)).reader();
}
