import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { md5Text } from './hash.js';
import type { HashInfo } from './tree.js';

// Hashes of what was already read, checked against (inode, mtime, ctime, size): a file whose stat is
// unchanged is not read again, so a no-op run costs one stat per file and no content reads. A file a
// stage names keeps its signature and hash in one small JSON file (all a no-op run reads); a
// directory keeps one state file of its own (dir-state.ts), streamed in manifest order.
type RootEntry = [signature: string, md5: string, size: number];

/** Where releases before the per-directory state files kept every file's hash; removed when seen. */
const OLD_FILE_TABLE = 'state-files.json';

function readJson<T>(file: string, empty: T): T {
  if (!existsSync(file)) return empty;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return empty; // a damaged state only costs re-hashing
  }
}

/** The hashes of named files, and where each directory's state file lives. */
export class StateStore {
  private rootsDirty = false;

  private constructor(
    private readonly dir: string,
    private readonly roots: Record<string, RootEntry>,
  ) {}

  static load(mlopsDir: string): StateStore {
    return new StateStore(mlopsDir, readJson(join(mlopsDir, 'state-roots.json'), {}));
  }

  /** The state file of the directory at `abs`. */
  dirStatePath(abs: string): string {
    return join(this.dir, 'state', md5Text(abs));
  }

  /** The hash recorded for a named path with exactly this signature. */
  lookupRoot(path: string, signature: string): HashInfo | undefined {
    const r = this.roots[path];
    if (!r || r[0] !== signature) return undefined;
    return { md5: r[1], size: r[2] };
  }

  /** `isSettled`: whether every file the signature covers was settled when its stat was taken. */
  recordRoot(path: string, signature: string, info: HashInfo, isSettled: boolean): void {
    if (!isSettled) return;
    this.roots[path] = [signature, info.md5, info.size];
    this.rootsDirty = true;
  }

  async save(): Promise<void> {
    if (this.rootsDirty) await writeFileAtomic(join(this.dir, 'state-roots.json'), JSON.stringify(this.roots));
    this.rootsDirty = false;
    await rm(join(this.dir, OLD_FILE_TABLE), { force: true });
  }
}
