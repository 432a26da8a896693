import { join } from 'node:path';
import type { ObjectStore } from '../cache/odb.js';
import { StateStore } from '../cache/state.js';
import { hashPath, type Hashed, type KnownCopy } from '../cache/tree.js';
import { FailureError } from '../core/errors.js';
import type { ReadRecorder } from '../core/yaml.js';
import type { Locks } from './lockfile.js';
import type { PathRef, Pipeline } from './model.js';
import type { ParamsReader } from './params-values.js';
import { isWithin } from './parse/paths.js';

/** What the pipeline engine takes from the project it runs in (a Project, or a test's own). */
export interface PipelineHost {
  readonly root: string;
  /** The project's `.mlops/` folder: state, snapshot, repo lock. */
  readonly mlopsDir: string;
  readonly cache: ObjectStore;
  readonly runCacheDir: string;
  /** The tool whose cache this is, when it is shared (DVC's): only that tool knows every object it needs. */
  readonly cacheOwner?: string;
  /** Creates `.mlops/` (with its .gitignore) before the first write into it. */
  ensureMlopsDir(): void;
  /** The tracking folder (root-relative) when it lies in the project: no output may cover it. */
  trackingFolder?(): Promise<string | undefined>;
}

/** An http(s) dependency's fingerprint as DVC records it: the ETag, else Last-Modified and size. */
export interface HttpFingerprint {
  readonly etag?: string;
  readonly last_modified?: string;
  readonly size?: number;
}

export type DepHashed = Hashed & { readonly http?: HttpFingerprint };

/**
 * Everything a command needs to look at a project's files: hashes, cache, lock files and params. Each
 * path is hashed (or its state looked up) at most once per invocation, however many stages name it;
 * a stage that rewrites a path forgets it first.
 */
export class Workspace {
  readonly mlopsDir: string;
  readonly state: StateStore;
  readonly odb: ObjectStore;
  readonly runCacheDir: string;
  readonly root: string;
  private readonly hashed = new Map<string, { result: Promise<DepHashed | null>; entries: boolean }>();

  constructor(
    readonly pipelines: readonly Pipeline[],
    readonly lock: Locks,
    readonly params: ParamsReader,
    host: PipelineHost,
    /** The files this workspace was parsed from (none when it came from the snapshot). */
    readonly reads?: ReadRecorder,
  ) {
    this.root = host.root;
    this.mlopsDir = host.mlopsDir;
    this.state = StateStore.load(this.mlopsDir);
    this.odb = host.cache;
    this.runCacheDir = host.runCacheDir;
  }

  abs(rel: string): string {
    return join(this.root, rel);
  }

  /**
   * Hash of a path for comparison with the lock; `forStorage` also lists a directory's files. A file
   * that holds `copyOf`'s bytes (compared, which is cheaper) is not hashed.
   */
  hash(rel: string, { forStorage = false, copyOf }: { forStorage?: boolean; copyOf?: KnownCopy } = {}): Promise<Hashed | null> {
    const known = this.hashed.get(rel);
    if (known && (known.entries || !forStorage)) return known.result;
    const result = hashPath(this.abs(rel), this.state, { entries: forStorage, copyOf });
    this.hashed.set(rel, { result, entries: forStorage });
    return result;
  }

  /** A dependency's hash: a project path, an absolute local path (md5, as DVC) or an http(s) URL. */
  hashDep(dep: PathRef): Promise<DepHashed | null> {
    if (!dep.external) return this.hash(dep.rel);
    const known = this.hashed.get(dep.rel);
    if (known) return known.result;
    const result = dep.external === 'http' ? httpFingerprint(dep.rel) : hashPath(dep.rel, this.state, { entries: false });
    this.hashed.set(dep.rel, { result, entries: false });
    return result;
  }

  /** Forgets what was hashed at, above or below `rel` (a stage is about to rewrite it). */
  forget(rel: string): void {
    for (const key of this.hashed.keys()) if (isWithin(key, rel) || isWithin(rel, key)) this.hashed.delete(key);
  }
}

/** HEAD of the URL; its fingerprint stands in for an md5 when comparing with the lock. */
async function httpFingerprint(url: string): Promise<DepHashed | null> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'HEAD', redirect: 'follow', signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new FailureError(`dependency '${url}' could not be reached: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
  if (response.status === 404) return null;
  if (!response.ok) throw new FailureError(`dependency '${url}' could not be reached: HTTP ${response.status}`);
  const etag = response.headers.get('etag') ?? undefined;
  const length = response.headers.get('content-length');
  const size = length === null ? undefined : Number(length);
  const lastModified = response.headers.get('last-modified') ?? undefined;
  if (!etag && !lastModified) throw new FailureError(`dependency '${url}' has neither an ETag nor a Last-Modified header to tell its versions apart`);
  const http: HttpFingerprint = etag ? { etag, ...(size === undefined ? {} : { size }) } : { last_modified: lastModified, ...(size === undefined ? {} : { size }) };
  return { info: { md5: httpKey(http), size: size ?? 0 }, http };
}

/** One comparable string for an http fingerprint, recorded or fresh. */
export function httpKey(http: HttpFingerprint): string {
  return http.etag !== undefined ? `etag:${http.etag}` : `last_modified:${http.last_modified}|${http.size ?? ''}`;
}
