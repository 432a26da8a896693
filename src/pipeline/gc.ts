import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { staleTempsUnder } from '../core/atomic.js';
import { isDirHash } from '../cache/tree.js';
import { readLockFile } from './lockfile-read.js';
import type { Workspace } from './workspace.js';

/**
 * Removes cache objects that no lock file of the project references: every `*.lock` beside the pipeline
 * file counts, since pipelines picked with `-f` share the project's cache. (The run-cache may point at
 * removed objects; its entries then stop restoring and the stage simply runs, as with DVC.) Stale temp
 * files of killed runs go too. Returns what was (or, dry, would be) removed.
 */
export async function collectGarbage(ws: Workspace, { dry = false } = {}): Promise<string[]> {
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
  const garbage = ws.odb.list().filter((md5) => !keep.has(md5));
  if (!dry) for (const md5 of garbage) await ws.odb.remove(md5);
  // Half-copied objects, run-cache entries and state files of killed runs, listed by their path.
  const temps = [...new Set([...ws.odb.staleTemps(), ...staleTempsUnder(ws.runCacheDir), ...staleTempsUnder(ws.mlopsDir)])];
  if (!dry) for (const path of temps) await rm(path, { force: true });
  return [...garbage, ...temps.map((path) => relative(dirname(ws.mlopsDir), path))];
}
