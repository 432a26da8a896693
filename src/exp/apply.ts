import { existsSync } from 'node:fs';
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
import { SAVED_DIR, SAVED_OBJECT_TAG } from './record.js';
import { experimentRuns, findExperiment } from './runs.js';

export interface ApplyResult {
  readonly run: Run;
  /** Params files, lock file and uncached outputs written back from the record. */
  readonly written: string[];
  /** Cached outputs restored from the cache by the lock file's hashes. */
  readonly checkout: CheckoutReport;
}

// Folders a record must never write into, whatever its artifact folder (or its object on a remote) holds; the tracking folder neither.
const PROTECTED = new Set(['.git', MLOPS_DIR, '.dvc']);

/** A file the record saved: its path relative to the root, and where its content is on this machine. */
export interface SavedFile {
  readonly rel: string;
  readonly from: string;
}

export interface ApplyOptions {
  /** Restore only this pipeline file's outputs (`--file`). */
  readonly file?: string;
  /** Overwrite outputs modified in the workspace. */
  readonly force?: boolean;
  readonly onWait: (wait: LockWait) => void;
}

/**
 * `exp apply`: brings an experiment back into the workspace, as DVC does: its params files, its lock
 * file and uncached outputs from the record, then its cached outputs from the cache.
 */
export async function applyExperiment(project: Project, ref: string, options: ApplyOptions): Promise<ApplyResult> {
  const run = findExperiment(await experimentRuns(project), ref);
  const saved = savedDir(run);
  if (!existsSync(saved) && run.tags[SAVED_OBJECT_TAG] !== undefined) {
    throw new UsageError(`experiment '${run.info.run_name}' (${run.info.run_id}): its record's files (${saved}) are not on this machine; mlops exp pull ${run.info.run_name} brings them from the remote`);
  }
  const files = (await savedFiles(saved, run)).map((rel) => ({ rel, from: join(saved, rel) }));
  return applyRun(project, run, files, options);
}

/**
 * Writes `files` into the workspace, then (after `beforeCheckout`: `exp pull` fetches the outputs the
 * new lock file names there) restores the cached outputs. Holds the repo lock so no repro runs meanwhile.
 */
export async function applyRun(project: Project, run: Run, files: readonly SavedFile[], options: ApplyOptions & { beforeCheckout?: () => Promise<void> }): Promise<ApplyResult> {
  const tracking = (await project.trackingFolder()) ?? '';
  const wanted = files.filter(({ rel }) => !PROTECTED.has(rel.split('/')[0]!) && (tracking === '' || !(rel === tracking || rel.startsWith(`${tracking}/`))));
  project.ensureMlopsDir();
  const lock = await acquireRepoLock(project.mlopsDir, options.onWait);
  try {
    for (const { rel, from } of wanted) await writeFileAtomic(join(project.root, rel), await readFile(from));
    await options.beforeCheckout?.();
    const selection = { cwd: project.cwd, force: options.force, lockHeld: true, ...(options.file === undefined ? {} : { file: project.fromCwd(options.file) }) };
    const checkout = await checkoutOutputs(project, selection, () => {});
    return { run, written: wanted.map((f) => f.rel), checkout };
  } finally {
    lock.release();
  }
}

/** Where the record's saved workspace is, if this machine reaches the run's artifacts. */
export function savedDir(run: Run): string {
  return join(artifactsDir(run), SAVED_DIR);
}

function artifactsDir(run: Run): string {
  const uri = run.info.artifact_uri;
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}

/** The saved files' paths relative to `saved`: plain files only, never through a link, never into a tool folder. */
export async function savedFiles(saved: string, run: Run): Promise<string[]> {
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
