import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { lockedKey, type LockEntry, type LockedFile } from './lockfile.js';
import type { Stage } from './model.js';
import type { ObjectStore } from '../cache/odb.js';

/**
 * The run-cache remembers the outputs of every (cmd, deps, params) combination that ran, so going back
 * to an earlier combination restores its outputs instead of running again. Entries live at
 * `<run-cache dir>/<key[:2]>/<key>/<sha256 of the value>` (`<cache>/runs` by default); the newest entry wins.
 */
export class RunCache {
  constructor(
    private readonly dir: string,
    private readonly odb: ObjectStore,
  ) {}

  /**
   * Stages whose results depend on more than their inputs, or that keep state, are never cached. As in
   * DVC, `cache: false` outputs (metrics, reports) do not exclude a stage: their content is stored for
   * the run-cache too, so going back to an earlier combination restores them with the rest.
   */
  static applies(stage: Stage): boolean {
    return !stage.alwaysChanged && stage.deps.length > 0 && stage.outs.length > 0 && stage.outs.every((o) => !o.persist);
  }

  /** The outputs recorded for this input combination whose objects are all still in the cache. */
  lookup(entry: LockEntry): readonly LockedFile[] | undefined {
    const dir = this.entryDir(entry);
    if (!existsSync(dir)) return undefined;
    const candidates = readdirSync(dir)
      .filter((n) => !n.includes('.tmp-'))
      .map((name) => ({ name, mtime: statSync(join(dir, name)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const { name } of candidates) {
      try {
        const outs = (JSON.parse(readFileSync(join(dir, name), 'utf8')) as { outs: LockedFile[] }).outs;
        if (outs.every((o) => this.odb.hasComplete(o.md5))) return outs;
      } catch {
        // an unreadable entry is skipped; the stage simply runs
      }
    }
    return undefined;
  }

  async save(entry: LockEntry): Promise<void> {
    const value = JSON.stringify({ outs: entry.outs ?? [] });
    await writeFileAtomic(join(this.entryDir(entry), sha256(value)), value);
  }

  private entryDir(entry: LockEntry): string {
    const key = sha256(
      JSON.stringify({ cmd: entry.cmd, deps: (entry.deps ?? []).map((d) => [d.path, lockedKey(d)]), params: entry.params ?? {} }),
    );
    return join(this.dir, key.slice(0, 2), key);
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
