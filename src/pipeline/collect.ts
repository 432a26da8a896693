// Finds every pipeline file of a project: `pipeline.yaml` and `dvc.yaml` anywhere under the root,
// except in the tool's and git's own folders and what `.dvcignore` / `.mlopsignore` exclude.
import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { IGNORE_FILES, IgnoreRules } from './ignore.js';

export const PIPELINE_FILES = ['pipeline.yaml', 'dvc.yaml'] as const;
const SKIPPED_DIRS = new Set(['.git', '.mlops', '.dvc', 'node_modules']);

export interface Collected {
  /** Root-relative pipeline files, folder by folder (a folder's pipeline.yaml before its dvc.yaml). */
  readonly files: string[];
  /**
   * Absolute folders walked: a file appearing in one of them changes its signature, which is how a
   * cached collection notices a new pipeline file without walking again.
   */
  readonly dirs: string[];
  /** Absolute ignore files read. */
  readonly ignoreFiles: string[];
}

/**
 * `skip`: more root-relative folders not to walk, the tracking folder: it holds no pipeline, only
 * grows (a folder per run), and a run recorded there must not change a walked folder's signature.
 */
export function collectPipelineFiles(root: string, skip: readonly string[] = []): Collected {
  const rules = new IgnoreRules();
  const out: Collected = { files: [], dirs: [], ignoreFiles: [] };
  const walk = (rel: string) => {
    const abs = rel ? `${root}/${rel}` : root;
    let entries: Dirent[];
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (error) {
      // A folder we may not read holds no pipeline of ours (DVC skips it too).
      if ((error as NodeJS.ErrnoException).code === 'EACCES') return;
      throw error;
    }
    out.dirs.push(abs);
    const names = new Set(entries.map((e) => e.name));
    for (const name of IGNORE_FILES) {
      if (!names.has(name)) continue;
      out.ignoreFiles.push(`${abs}/${name}`);
      rules.add(rel, readFileSync(`${abs}/${name}`, 'utf8'));
    }
    for (const name of PIPELINE_FILES) {
      const file = rel ? `${rel}/${name}` : name;
      if (names.has(name) && !rules.ignored(file, false)) out.files.push(file);
    }
    const dirs = entries.filter((e) => e.isDirectory() && !SKIPPED_DIRS.has(e.name)).map((e) => e.name).sort();
    for (const name of dirs) {
      const child = rel ? `${rel}/${name}` : name;
      if (!skip.includes(child) && !rules.ignored(child, true)) walk(child);
    }
  };
  walk('');
  return out;
}
