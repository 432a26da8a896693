import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The project root as DVC finds it: the nearest folder, walking up from `start`, that holds `.mlops/`
 * or `.dvc/`; failing that, the git work tree's top (the nearest `.git`, a folder or a worktree's
 * file); failing that, `start` itself. Only stats, so a no-op command stays fast.
 */
export function findProjectRoot(start: string): string {
  const from = resolve(start);
  return walkUp(from, (dir) => existsSync(join(dir, '.mlops')) || existsSync(join(dir, '.dvc'))) ?? walkUp(from, (dir) => existsSync(join(dir, '.git'))) ?? from;
}

function walkUp(from: string, found: (dir: string) => boolean): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (found(dir)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** For the CLI layer only: `MLOPS_ROOT` (set for every stage) overrides the discovered root. */
export function projectRoot(): string {
  return process.env.MLOPS_ROOT || findProjectRoot(process.cwd());
}
