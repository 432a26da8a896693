import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDirHash } from '../cache/tree.js';
import { readLockFile } from './lockfile-read.js';
import type { Workspace } from './workspace.js';

export interface GcOptions {
  /** List what would be removed, remove nothing. */
  readonly dry?: boolean;
  /**
   * More objects to keep beyond the lock files': each source gives object names (md5, `.dir` ones
   * keeping their files too), e.g. the outputs recorded by experiments or registered models.
   */
  readonly keep?: readonly (() => Promise<Iterable<string>> | Iterable<string>)[];
}

/**
 * Removes cache objects that nothing references: every pipeline's lock file, every other `*.lock` beside
 * a pipeline file (pipelines picked with `--file` share the project's cache) and the `keep` sources. (The
 * run-cache may point at removed objects; its entries then stop restoring and the stage simply runs, as
 * with DVC.) Returns what was (or, dry, would be) removed.
 */
export async function collectGarbage(ws: Workspace, { dry = false, keep = [] }: GcOptions = {}): Promise<string[]> {
  const kept = new Set<string>();
  const add = (md5: string) => {
    kept.add(md5);
    if (isDirHash(md5) && ws.odb.has(md5)) {
      try {
        for (const e of ws.odb.readManifest(md5)) kept.add(e.md5);
      } catch {
        // a corrupted manifest keeps nothing alive beyond itself
      }
    }
  };
  const open = new Set([...ws.lock.byFile().values()].map((l) => l.path));
  const beside = [...new Set(ws.pipelines.map((p) => dirname(p.file)))].flatMap((dir) =>
    readdirSync(dir)
      .filter((name) => name.endsWith('.lock'))
      .map((name) => join(dir, name))
      .filter((path) => !open.has(path))
      .map((path) => readLockFile(path)),
  );
  for (const lock of [...ws.lock.byFile().values(), ...beside]) {
    for (const [, entry] of lock.entries()) for (const out of entry.outs ?? []) add(out.md5);
  }
  for (const source of keep) for (const md5 of await source()) add(md5);
  const garbage = ws.odb.list().filter((md5) => !kept.has(md5));
  if (!dry) for (const md5 of garbage) await ws.odb.remove(md5);
  return garbage;
}
