import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { configPath, MLOPS_DIR } from './config.js';
import { MLOPS_GITIGNORE } from './project.js';

/**
 * `mlops init`: `.mlops/` with an empty shared `config` and a `.gitignore` that keeps the rest (cache,
 * state, snapshot, config.local) out of git, as `dvc init` makes `.dvc/`. Initializing again only adds
 * what is missing and says so; nothing there is overwritten.
 */
export async function initProject(root: string): Promise<{ created: string[]; already: boolean }> {
  const already = existsSync(join(root, MLOPS_DIR));
  const wanted: [string, string][] = [
    [configPath(root, 'repo'), ''],
    [join(root, MLOPS_DIR, '.gitignore'), MLOPS_GITIGNORE],
  ];
  const created: string[] = [];
  for (const [path, text] of wanted) {
    if (existsSync(path)) continue;
    await writeFileAtomic(path, text);
    created.push(path);
  }
  return { created, already };
}
