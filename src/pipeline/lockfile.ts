import { existsSync } from 'node:fs';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../core/atomic.js';
import { displayPath, readYamlFile } from '../core/yaml.js';
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

  private constructor(
    readonly path: string,
    private readonly stages: Record<string, LockEntry>,
  ) {}

  static read(path: string): LockFile {
    if (!existsSync(path)) return new LockFile(path, {});
    const source = readYamlFile(path);
    const doc = source.value as { schema?: unknown; stages?: unknown } | null;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw source.error([], 'expected a mapping');
    if (doc.schema !== '2.0') throw source.error(['schema'], `unsupported lock schema '${String(doc.schema)}' (expected '2.0')`);
    const stages = doc.stages ?? {};
    if (typeof stages !== 'object' || Array.isArray(stages)) throw source.error(['stages'], 'expected a mapping');
    return new LockFile(path, stages as Record<string, LockEntry>);
  }

  get(stage: string): LockEntry | undefined {
    return this.stages[stage];
  }

  entries(): [string, LockEntry][] {
    return Object.entries(this.stages);
  }

  /** Records one stage; writes are serialised so parallel stages never interleave a write. */
  set(stage: string, entry: LockEntry): Promise<void> {
    this.stages[stage] = entry;
    const text = render(this.stages);
    this.writes = this.writes.then(() => writeFileAtomic(this.path, text));
    return this.writes;
  }

  get displayPath(): string {
    return displayPath(this.path);
  }
}

function render(stages: Record<string, LockEntry>): string {
  const sorted: Record<string, LockEntry> = {};
  for (const name of Object.keys(stages).sort()) sorted[name] = stages[name]!;
  return stringify({ schema: '2.0', stages: sorted }, { lineWidth: 0, singleQuote: true, indentSeq: false }); // DVC's own formatting
}
