import { existsSync, readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';

// Hashes of files already read, keyed by path and checked against (inode, mtime, size): a file whose
// stat is unchanged is not read again, so a no-op run costs one stat per file and no content reads.
type Entry = [ino: number, mtimeMs: number, size: number, md5: string];

export class StateStore {
  private dirty = false;

  private constructor(
    private readonly file: string,
    private readonly entries: Record<string, Entry>,
  ) {}

  static load(mlopsDir: string): StateStore {
    const file = join(mlopsDir, 'state.json');
    let entries: Record<string, Entry> = {};
    if (existsSync(file)) {
      try {
        entries = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Entry>;
      } catch {
        entries = {}; // a damaged state only costs re-hashing
      }
    }
    return new StateStore(file, entries);
  }

  lookup(path: string, stat: Stats): string | undefined {
    const e = this.entries[path];
    return e && e[0] === stat.ino && e[1] === stat.mtimeMs && e[2] === stat.size ? e[3] : undefined;
  }

  record(path: string, stat: Stats, md5: string): void {
    this.entries[path] = [stat.ino, stat.mtimeMs, stat.size, md5];
    this.dirty = true;
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    await writeFileAtomic(this.file, JSON.stringify(this.entries));
    this.dirty = false;
  }
}
