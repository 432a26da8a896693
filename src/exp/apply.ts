import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../core/atomic.js';
import { UsageError } from '../core/errors.js';
import type { CheckoutReport } from '../pipeline/checkout.js';
import { checkoutOutputs } from '../pipeline/repro.js';
import { MLOPS_DIR } from '../project/config.js';
import { acquireRepoLock, type LockWait } from '../pipeline/repo-lock.js';
import type { Project } from '../project/project.js';
import type { Run } from '../tracking/store.js';
import { SAVED_DIR } from './record.js';
import { experimentRuns, findExperiment } from './runs.js';

export interface ApplyResult {
  readonly run: Run;
  /** Params files, lock file and uncached outputs written back from the record. */
  readonly written: string[];
  /** Cached outputs restored from the cache by the lock file's hashes. */
  readonly checkout: CheckoutReport;
}

// Folders a record must never write into, whatever its artifact folder holds (the tracking folder too).
const PROTECTED = new Set(['.git', MLOPS_DIR, '.dvc']);

/**
 * `exp apply`: brings an experiment back into the workspace, as DVC does: its params files, its lock
 * file and uncached outputs from the record, then its cached outputs from the cache. Holds the repo
 * lock so no repro runs meanwhile.
 */
export async function applyExperiment(project: Project, ref: string, options: { file?: string; onWait: (wait: LockWait) => void }): Promise<ApplyResult> {
  const { root } = project;
  const run = findExperiment(await experimentRuns(project), ref);
  const saved = join(artifactsDir(run), SAVED_DIR);
  const tracking = (await project.trackingFolder()) ?? '';
  const files = (await savedFiles(saved, run)).filter((rel) => tracking === '' || !(rel === tracking || rel.startsWith(`${tracking}/`)));
  project.ensureMlopsDir();
  const lock = await acquireRepoLock(project.mlopsDir, options.onWait);
  try {
    for (const rel of files) await writeFileAtomic(join(root, rel), await readFile(join(saved, rel)));
    const checkout = await checkoutOutputs(project, { cwd: project.cwd, ...(options.file === undefined ? {} : { file: project.fromCwd(options.file) }), lockHeld: true }, () => {});
    return { run, written: files, checkout };
  } finally {
    lock.release();
  }
}

function artifactsDir(run: Run): string {
  const uri = run.info.artifact_uri;
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}

/** The saved files' paths relative to `saved`: plain files only, never through a link, never into a tool folder. */
async function savedFiles(saved: string, run: Run): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const path = join(saved, rel);
    const stat = await lstat(path).catch(() => undefined);
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const name of await readdir(path)) {
        if (!(rel === '' && PROTECTED.has(name))) await walk(rel ? `${rel}/${name}` : name);
      }
    } else if (stat.isFile()) {
      out.push(rel);
    }
  };
  await walk('');
  if (!out.length) throw new UsageError(`experiment '${run.info.run_name}' (${run.info.run_id}) has no saved workspace to apply (recorded by an older mlops)`);
  return out.sort();
}
