import { writeFileAtomic } from '../core/atomic.js';
import type { HashInfo } from '../cache/tree.js';
import type { Stage } from './model.js';
import { httpKey, type HttpFingerprint } from './workspace.js';

/**
 * A dep or out as DVC 3 records it: `{path, hash: md5, md5, size, nfiles}`; an http(s) dependency as
 * `{path, etag, size}` (or `last_modified` when the server sends no ETag).
 */
export type LockedPath = LockedFile | LockedUrl;

export interface LockedFile {
  readonly path: string;
  readonly hash: 'md5';
  readonly md5: string;
  readonly size: number;
  readonly nfiles?: number;
}

export type LockedUrl = { readonly path: string } & HttpFingerprint & { readonly md5?: undefined };

/** What a recorded dep or out is compared by: its md5, or an http fingerprint. */
export function lockedKey(locked: LockedPath): string {
  return locked.md5 ?? httpKey(locked);
}

export type LockedParams = Record<string, Record<string, unknown>>;

export interface LockEntry {
  readonly cmd: string | readonly string[];
  readonly deps?: readonly LockedPath[];
  readonly params?: LockedParams;
  readonly outs?: readonly LockedFile[];
}

export function lockedPath(path: string, info: HashInfo): LockedFile {
  return { path, hash: 'md5', md5: info.md5, size: info.size, ...(info.nfiles === undefined ? {} : { nfiles: info.nfiles }) };
}

/** The lock file (DVC's schema 2.0), kept in memory and rewritten whole, atomically, per stage. */
export class LockFile {
  private writes: Promise<void> = Promise.resolve();
  /** True once this process has written the file. */
  written = false;

  constructor(
    readonly path: string,
    private readonly stages: Record<string, LockEntry>,
  ) {}

  get(stage: string): LockEntry | undefined {
    return this.stages[stage];
  }

  entries(): [string, LockEntry][] {
    return Object.entries(this.stages);
  }

  /** Records one stage; writes are serialised so parallel stages never interleave a write. */
  set(stage: string, entry: LockEntry): Promise<void> {
    this.stages[stage] = entry;
    this.written = true;
    const snapshot = { ...this.stages };
    this.writes = this.writes.then(async () => writeFileAtomic(this.path, await render(snapshot)));
    return this.writes;
  }

  /** Resolves when every write so far is on disk. */
  flushed(): Promise<void> {
    return this.writes;
  }
}

/** The lock files of a project's pipelines, each beside its pipeline file; stages find theirs by `file`. */
export class Locks {
  constructor(private readonly files: ReadonlyMap<string, LockFile>) {}

  of(stage: Pick<Stage, 'file'>): LockFile {
    return this.files.get(stage.file)!;
  }

  get(stage: Pick<Stage, 'file' | 'name'>): LockEntry | undefined {
    return this.of(stage).get(stage.name);
  }

  set(stage: Pick<Stage, 'file' | 'name'>, entry: LockEntry): Promise<void> {
    return this.of(stage).set(stage.name, entry);
  }

  /** Pipeline file (root-relative) -> its lock file. */
  byFile(): ReadonlyMap<string, LockFile> {
    return this.files;
  }

  /** Resolves when every write so far is on disk. */
  async flushed(): Promise<void> {
    await Promise.all([...this.files.values()].map((l) => l.flushed()));
  }
}

async function render(stages: Record<string, LockEntry>): Promise<string> {
  const { stringify } = await import('yaml'); // only when writing: a no-op run never loads the YAML library
  const sorted: Record<string, LockEntry> = {};
  for (const name of Object.keys(stages).sort()) sorted[name] = stages[name]!;
  return stringify({ schema: '2.0', stages: sorted }, { lineWidth: 0, singleQuote: true, indentSeq: false }); // DVC's own formatting
}
