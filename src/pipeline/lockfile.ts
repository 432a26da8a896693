import { writeFileAtomic } from '../core/atomic.js';
import type { HashInfo } from '../cache/tree.js';

/** A dep or out as DVC 3 records it: `{path, hash: md5, md5, size, nfiles}`. */
export interface LockedPath {
  readonly path: string;
  readonly hash: 'md5';
  readonly md5: string;
  readonly size: number;
  readonly nfiles?: number;
}

export type LockedParams = Record<string, Record<string, unknown>>;

export interface LockEntry {
  readonly cmd: string | readonly string[];
  readonly deps?: readonly LockedPath[];
  readonly params?: LockedParams;
  readonly outs?: readonly LockedPath[];
}

export function lockedPath(path: string, info: HashInfo): LockedPath {
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

async function render(stages: Record<string, LockEntry>): Promise<string> {
  const { stringify } = await import('yaml'); // only when writing: a no-op run never loads the YAML library
  const sorted: Record<string, LockEntry> = {};
  for (const name of Object.keys(stages).sort()) sorted[name] = stages[name]!;
  return stringify({ schema: '2.0', stages: sorted }, { lineWidth: 0, singleQuote: true, indentSeq: false }); // DVC's own formatting
}
