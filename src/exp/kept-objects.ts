// An experiment keeps its pipeline outputs alive: `exp run` records every lock file of the project in
// the experiment's run (artifacts under `mlops-locks/`), and `gc` keeps every cache object those
// recorded lock files name, so a model an experiment produced is not collected once the workspace
// moves on (as DVC keeps experiments' objects unless asked).
import { existsSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectPipelineFiles } from '../pipeline/collect.js';
import { lockFileFor } from '../pipeline/load.js';
import { readLockFile } from '../pipeline/lockfile-read.js';
import type { Project } from '../project/project.js';
import { EXPERIMENT_KIND, EXPERIMENT_TAG } from './record.js';

export const LOCKS_ARTIFACT_DIR = 'mlops-locks';

/** Logs every existing lock file of the project into the run, under its folder relative to the root. */
export async function recordLockFiles(root: string, run: { logArtifact(localPath: string, artifactPath?: string): Promise<void> }): Promise<void> {
  for (const file of collectPipelineFiles(root).files) {
    const lock = lockFileFor(join(root, file));
    if (existsSync(lock)) await run.logArtifact(lock, posix.join(LOCKS_ARTIFACT_DIR, posix.dirname(file)));
  }
}

/** Every cache object (md5) named by the lock files recorded by the project's experiments. */
export async function experimentObjects(project: Project): Promise<string[]> {
  const { store } = await project.tracking();
  const experimentIds = (await store.listExperiments('all')).map((experiment) => experiment.experiment_id);
  if (experimentIds.length === 0) return [];
  const { runs } = await store.searchRuns({ experimentIds, view: 'all' });
  const md5s: string[] = [];
  for (const run of runs) {
    if (run.tags[EXPERIMENT_TAG] !== EXPERIMENT_KIND || !run.info.artifact_uri.startsWith('file:')) continue;
    const dir = join(fileURLToPath(run.info.artifact_uri), LOCKS_ARTIFACT_DIR);
    for (const lock of lockFilesUnder(dir)) {
      for (const [, entry] of readLockFile(lock).entries()) for (const out of entry.outs ?? []) md5s.push(out.md5);
    }
  }
  return md5s;
}

function lockFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.lock'))
    .map((e) => join(e.parentPath, e.name));
}
