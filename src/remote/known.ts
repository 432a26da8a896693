import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';

const NAME = /^[0-9a-f]{32}(\.dir)?$/;

/**
 * The objects known to be on one remote (pushed, pulled or seen there), kept in `.mlops/remotes/`, so a
 * push of an unchanged cache asks the remote nothing. Only `push` trusts it; `status -c` and `pull` ask
 * the remote, and an object a pull finds missing is forgotten. Saved temp-file-and-rename, every few
 * seconds during a transfer and at its end: a killed push loses at most those seconds of knowledge,
 * which only costs asking again.
 */
export class KnownObjects {
  private dirty = false;
  private lastSave = Date.now();

  private constructor(
    private readonly file: string,
    private readonly names: Set<string>,
  ) {}

  static load(mlopsDir: string, location: string): KnownObjects {
    const file = join(mlopsDir, 'remotes', `${createHash('sha256').update(location).digest('hex').slice(0, 16)}.known`);
    let names: string[] = [];
    try {
      names = readFileSync(file, 'utf8').split('\n').filter((n) => NAME.test(n));
    } catch {
      // none yet, or unreadable: it is only a shortcut
    }
    return new KnownObjects(file, new Set(names));
  }

  has(md5: string): boolean {
    return this.names.has(md5);
  }

  add(md5: string): void {
    if (this.names.has(md5)) return;
    this.names.add(md5);
    this.dirty = true;
  }

  forget(md5: string): void {
    this.dirty = this.names.delete(md5) || this.dirty;
  }

  /** Saves when something changed and (unless `now`) a few seconds have passed since the last save. */
  async save(now = true): Promise<void> {
    if (!this.dirty || (!now && Date.now() - this.lastSave < 2000)) return;
    this.dirty = false;
    this.lastSave = Date.now();
    await writeFileAtomic(this.file, [...this.names].join('\n') + '\n');
  }
}
