import { isDirHash } from '../cache/tree.js';
import type { Workspace } from './workspace.js';

/**
 * Removes cache objects that the lock file does not reference (the run-cache may point at them; its
 * entries then stop restoring and the stage simply runs, as with DVC). Returns what was (or, dry, would be)
 * removed.
 */
export async function collectGarbage(ws: Workspace, { dry = false } = {}): Promise<string[]> {
  const keep = new Set<string>();
  for (const [, entry] of ws.lock.entries()) {
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
  return garbage;
}
