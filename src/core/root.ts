import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The project root as DVC finds it: the nearest folder, walking up from `start`, that holds `.mlops/`
 * or `.dvc/`; failing that, the git work tree's top (the nearest `.git`, a folder or a worktree's
 * file); failing that, `start` itself. The walk stops at the git work tree's top: a project never
 * spans beyond its repository, so a stray `.mlops/` above it (in a home or temp folder) is not taken
 * for the root. Only stats, so a no-op command stays fast.
 */
export function findProjectRoot(start: string): string {
  const from = resolve(start);
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.mlops')) || existsSync(join(dir, '.dvc')) || existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}

/** For the CLI layer only: `MLOPS_ROOT` (set for every stage) overrides the discovered root. */
export function projectRoot(): string {
  return process.env.MLOPS_ROOT || findProjectRoot(process.cwd());
}
