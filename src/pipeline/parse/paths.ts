// Paths in a pipeline file are relative to the stage's wdir; everything downstream (graph, hashing,
// lock, cache) uses them normalised relative to the project root, and none may leave the project.
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, resolve, sep, win32 } from 'node:path';

/** `wdirRel` + `written`, normalised (POSIX, no `./`, no trailing `/`); null when it leaves the root. */
export function joinRel(wdirRel: string, written: string): string | null {
  if (isAbsolute(written) || win32.isAbsolute(written)) return null;
  const rel = posix.normalize(posix.join(wdirRel, written.replaceAll('\\', '/'))).replace(/\/+$/, '') || '.';
  return rel === '..' || rel.startsWith('../') ? null : rel;
}

/** True when `rel` lies at or under `base` (both normalised and relative to the same root). */
export function isWithin(rel: string, base: string): boolean {
  return base === '.' || rel === base || rel.startsWith(`${base}/`);
}

/**
 * Where a path really lands once symlinks are followed: the first existing ancestor (or the path
 * itself) that resolves outside the root, as a relative path for the message; undefined when safe.
 */
export function symlinkEscape(root: string, rel: string): string | undefined {
  const realRoot = realpathSync(root);
  const parts = rel === '.' ? [] : rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const here = join(root, ...parts.slice(0, i));
    if (!existsSync(here) && !isBrokenLink(here)) return undefined;
    if (!lstatSync(here).isSymbolicLink()) continue;
    // A dangling link still decides where a stage would write: judge its target as written.
    const target = existsSync(here) ? realpathSync(here) : resolve(realpathSync(dirname(here)), readlinkSync(here));
    if (target !== realRoot && !target.startsWith(realRoot + sep)) return parts.slice(0, i).join('/');
  }
  return undefined;
}

function isBrokenLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
