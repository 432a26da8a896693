import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { settled, type FileStat } from '../core/signature.js';
import type { HashInfo } from './tree.js';

// Hashes of files already read, keyed by path and checked against (inode, mtime, size): a file whose
// stat is unchanged is not read again, so a no-op run costs one stat per file and no content reads.
// The paths stages name (files or whole directories) also keep a signature of their stat, or for a
// directory of its whole listing, so an unchanged one is answered from a small file without loading
// the per-file table, looking up each file, or rebuilding the manifest.
type Entry = [ino: number, mtimeMs: number, ctimeMs: number, size: number, md5: string];
type RootEntry = [signature: string, md5: string, size: number, nfiles?: number];

function readJson<T>(file: string, empty: T): T {
  if (!existsSync(file)) return empty;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return empty; // a damaged state only costs re-hashing
  }
}

/** Two files: root signatures (all a no-op run reads) and per-file hashes (read only when needed). */
export class StateStore {
  private files?: Record<string, Entry>;
  private filesDirty = false;
  private rootsDirty = false;

  private constructor(
    private readonly dir: string,
    private readonly roots: Record<string, RootEntry>,
  ) {}

  static load(mlopsDir: string): StateStore {
    return new StateStore(mlopsDir, readJson(join(mlopsDir, 'state-roots.json'), {}));
  }

  private fileEntries(): Record<string, Entry> {
    return (this.files ??= readJson(join(this.dir, 'state-files.json'), {}));
  }

  lookup(path: string, stat: FileStat): string | undefined {
    const e = this.fileEntries()[path];
    return e && e[0] === stat.ino && e[1] === stat.mtimeMs && e[2] === stat.ctimeMs && e[3] === stat.size ? e[4] : undefined;
  }

  /** Remembers a file's hash, unless its stat was taken too soon after a change to trust (core/signature's `settled`). */
  record(path: string, stat: FileStat, md5: string, seenAt: number): void {
    if (!settled(stat, seenAt)) return;
    this.fileEntries()[path] = [stat.ino, stat.mtimeMs, stat.ctimeMs, stat.size, md5];
    this.filesDirty = true;
  }

  /** The hash recorded for a named path with exactly this signature. */
  lookupRoot(path: string, signature: string): HashInfo | undefined {
    const r = this.roots[path];
    if (!r || r[0] !== signature) return undefined;
    return r[3] === undefined ? { md5: r[1], size: r[2] } : { md5: r[1], size: r[2], nfiles: r[3] };
  }

  /** `isSettled`: whether every file the signature covers was settled when its stat was taken. */
  recordRoot(path: string, signature: string, info: HashInfo, isSettled: boolean): void {
    if (!isSettled) return;
    this.roots[path] = [signature, info.md5, info.size, ...(info.nfiles === undefined ? [] : [info.nfiles])] as RootEntry;
    this.rootsDirty = true;
  }

  async save(): Promise<void> {
    if (this.filesDirty) await writeFileAtomic(join(this.dir, 'state-files.json'), JSON.stringify(this.files));
    if (this.rootsDirty) await writeFileAtomic(join(this.dir, 'state-roots.json'), JSON.stringify(this.roots));
    this.filesDirty = this.rootsDirty = false;
  }
}
