import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isDirHash } from '../cache/tree.js';
import { readLockFile } from './lockfile-read.js';
import type { Workspace } from './workspace.js';

/** What gc is told to keep besides the lock files' objects: the registered model versions' files. */
export interface GcOptions {
  dry?: boolean;
  /** Asked under the repo lock, so it sees what was registered up to the moment objects go. */
  keep?: () => Promise<Iterable<string>>;
}

/**
 * Removes cache objects that no lock file of the project references (nor `keep`): every `*.lock` beside
 * the pipeline file counts, since pipelines picked with `-f` share the project's cache. (The run-cache may
 * point at removed objects; its entries then stop restoring and the stage simply runs, as with DVC.)
 * Returns what was (or, dry, would be) removed.
 */
export async function collectGarbage(ws: Workspace, { dry = false, keep: alsoKeep }: GcOptions = {}): Promise<string[]> {
  const keep = new Set<string>();
  const locks = readdirSync(ws.pipeline.root)
    .filter((name) => name.endsWith('.lock'))
    .map((name) => join(ws.pipeline.root, name))
    .filter((path) => path !== ws.pipeline.lockFile)
    .map((path) => readLockFile(path));
  for (const [, entry] of [ws.lock, ...locks].flatMap((lock) => lock.entries())) {
    for (const out of entry.outs ?? []) {
      keep.add(out.md5);
      if (isDirHash(out.md5) && ws.odb.has(out.md5)) {
        try {
          for (const e of ws.odb.readManifest(out.md5)) keep.add(e.md5);
        } catch {
          // a corrupted manifest keeps nothing alive beyond itself
        }
      }
    }
  }
  for (const md5 of (await alsoKeep?.()) ?? []) keep.add(md5);
  const garbage = ws.odb.list().filter((md5) => !keep.has(md5));
  if (!dry) for (const md5 of garbage) await ws.odb.remove(md5);
  return garbage;
}
