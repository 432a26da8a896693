import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../core/errors.js';
import { MLOPS_DIR } from './config.js';
import type { TrackingStore } from '../tracking/store.js';

/** A store URI taken apart: its scheme, and for `file:` (or a plain path) the absolute folder. */
export interface StoreLocation {
  readonly uri: string;
  readonly scheme: string;
  /** For `file`: the folder, relative paths taken from the project root. */
  readonly path: string;
}

/** What the project says about a store besides its URI. */
export interface StoreContext {
  /** Where a database store keeps run artifacts (MLflow's --default-artifact-root): an absolute folder or `s3://bucket/prefix`. */
  readonly artifactRoot?: string;
  /** Receives lines for the user (a database at a newer MLflow schema revision). */
  readonly notice?: (line: string) => void;
}

/** Opens a store; `root` is the project's (a folder store keeps its artifact objects in its .mlops/). */
export type StoreOpener<T> = (location: StoreLocation, root: string, context: StoreContext) => T | Promise<T>;

// `sqlite:`, `postgresql+psycopg2:`... A one-letter "scheme" is a Windows drive, i.e. a path. A driver
// after `+` (SQLAlchemy's notation) does not change the store.
const SCHEME = /^([A-Za-z][A-Za-z0-9.-]+)(?:\+[A-Za-z0-9_]+)?:/;

/** Where a database store keeps artifacts when `tracking.artifact_root` is not set (as `mlflow server` does). */
export const DEFAULT_ARTIFACT_ROOT = 'mlartifacts';

/**
 * Opens stores by URI scheme, as MLflow picks a store from its tracking URI: `file:` or a plain path
 * or a database (`sqlite:`, `postgresql:`); another store is one more opener, not a change to any command.
 * Immutable: `with` returns a new registry.
 */
export class StoreRegistry<T> {
  constructor(
    /** What is opened, for messages: 'tracking store', 'model registry'. */
    private readonly what: string,
    private readonly openers: Readonly<Record<string, StoreOpener<T>>>,
  ) {}

  with(scheme: string, opener: StoreOpener<T>): StoreRegistry<T> {
    return new StoreRegistry(this.what, { ...this.openers, [scheme]: opener });
  }

  schemes(): string[] {
    return Object.keys(this.openers);
  }

  /** The store at `uri`; a scheme nobody registered is a usage error naming the URI. */
  async open(uri: string, root: string, context: StoreContext = {}): Promise<T> {
    const location = parseStoreUri(uri, root);
    const opener = this.openers[location.scheme];
    if (!opener) {
      throw new UsageError(`${this.what} URI '${uri}': unsupported scheme '${location.scheme}:' (supported: ${this.schemes().map((s) => `${s}:`).join(', ')} or a plain path)`);
    }
    return opener(location, root, context);
  }
}

export function parseStoreUri(uri: string, root: string): StoreLocation {
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return { uri, scheme: 'file', path: isAbsolute(uri) ? uri : resolve(root, uri) };
  if (scheme !== 'file') return { uri, scheme, path: '' };
  try {
    return { uri, scheme, path: fileURLToPath(uri) };
  } catch (error) {
    throw new UsageError(`store URI '${uri}': ${(error as Error).message}`);
  }
}

/** Where a store keeps artifact contents once each (see tracking/artifact-objects.ts). */
const artifactObjects = (root: string) => join(root, MLOPS_DIR, 'artifacts');

/** A tracking store in MLflow's tables, on SQLite or PostgreSQL (each driver loaded only here). */
const sqlTrackingStore: StoreOpener<TrackingStore> = async (location, root, context) => {
  const [{ openMlflowDatabase }, { SqlTrackingStore }] = await Promise.all([import('../sql/open.js'), import('../tracking/sql-store.js')]);
  const artifactRoot = context.artifactRoot ?? join(root, DEFAULT_ARTIFACT_ROOT);
  const artifactBucket = artifactRoot.startsWith('s3://') ? await openArtifactBucket(artifactRoot, root) : undefined;
  const db = await openMlflowDatabase(location.uri, { root, notice: context.notice });
  return SqlTrackingStore.open(db, { artifactRoot, artifactBucket, objectsDir: artifactObjects(root) });
};

/** An `s3://bucket/prefix` artifact root through the remote-storage S3 client, with the settings of the project's remote on that bucket. */
async function openArtifactBucket(uri: string, root: string) {
  const [{ openS3Location }, { parseRemoteUrl }] = await Promise.all([import('../remote/open.js'), import('../remote/config.js')]);
  const url = parseRemoteUrl(uri, root);
  if (typeof url === 'string' || url.scheme !== 's3') throw new UsageError(`artifact root '${uri}': expected s3://bucket/prefix`);
  return openS3Location({ root, isDvcRepo: existsSync(join(root, '.dvc')) }, url);
}

/** The tracking stores this build can open. */
export const TRACKING_STORES = new StoreRegistry<TrackingStore>('tracking store', {
  file: async (location, root) => new (await import('../tracking/file-store.js')).FileStore(location.path, artifactObjects(root)),
  sqlite: sqlTrackingStore,
  postgresql: sqlTrackingStore,
  postgres: sqlTrackingStore,
});
