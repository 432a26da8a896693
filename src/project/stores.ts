import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../core/errors.js';
import type { TrackingStore } from '../tracking/store.js';

/** A store URI taken apart: its scheme, and for `file:` (or a plain path) the absolute folder. */
export interface StoreLocation {
  readonly uri: string;
  readonly scheme: string;
  /** For `file`: the folder, relative paths taken from the project root. */
  readonly path: string;
}

export type StoreOpener<T> = (location: StoreLocation) => T | Promise<T>;

// `sqlite:`, `postgresql+psycopg2:`... A one-letter "scheme" is a Windows drive, i.e. a path.
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):/;

/**
 * Opens stores by URI scheme, as MLflow picks a store from its tracking URI: `file:` or a plain path
 * today; a SQL store is one more opener (`stores.with('sqlite', ...)`), not a change to any command.
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
  async open(uri: string, root: string): Promise<T> {
    const location = parseStoreUri(uri, root);
    const opener = this.openers[location.scheme];
    if (!opener) {
      throw new UsageError(`${this.what} URI '${uri}': unsupported scheme '${location.scheme}:' (supported: ${this.schemes().map((s) => `${s}:`).join(', ')} or a plain path)`);
    }
    return opener(location);
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

/** The tracking stores this build can open. */
export const TRACKING_STORES = new StoreRegistry<TrackingStore>('tracking store', {
  file: async (location) => new (await import('../tracking/file-store.js')).FileStore(location.path),
});
