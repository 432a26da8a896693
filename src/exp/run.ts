import { cp, mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { isAbsolute, join, relative, sep } from 'node:path';
import { loadPipeline } from '../pipeline/load.js';
import { MLOPS_DIR } from '../pipeline/workspace.js';
import { acquireRepoLock } from '../pipeline/repo-lock.js';
import { trackingConfig } from '../tracking/config.js';
import { applyOverrides, parseOverride } from './overrides.js';
import { checkRecordable, paramEntries, recordExperiment } from './record.js';

export interface ExpRunRequest {
  /** `-S [file:]key=value` as typed. */
  readonly overrides: readonly string[];
  readonly name?: string;
  /** The pipeline file, when narrowed to one. */
  readonly file?: string;
  /** Run in a temporary copy of the workspace, leaving the workspace untouched. */
  readonly temp?: boolean;
}

export interface ExpRunHooks {
  /** Reproduces the pipeline at `root` (the workspace, or its copy) with the repo lock held; true when every stage succeeded. */
  reproduce(root: string): Promise<boolean>;
  /** Another command holds the repo lock: this one waits for it. */
  onWait(pid: number): void;
}

export interface ExpRunResult {
  readonly runId: string;
  readonly ok: boolean;
}

/**
 * `exp run`: overrides, repro and record under one hold of the repo lock, so a concurrent `exp run`
 * can neither change params.yaml between this one's overrides and its stages nor between its stages
 * and its record. As in DVC, the results stay in the workspace; with `temp`, in a copy that is
 * removed afterwards (its cached outputs stay in the shared cache for `exp apply`).
 */
export async function runExperiment(root: string, request: ExpRunRequest, hooks: ExpRunHooks): Promise<ExpRunResult> {
  const overrides = request.overrides.map(parseOverride);
  const run = (at: string) =>
    holdingLock(at, hooks.onWait, async () => {
      await applyOverrides(at, overrides);
      const pipeline = loadPipeline(at, request.file);
      // Read now, before any stage: exactly the values the stages run with.
      const params = await paramEntries(pipeline);
      checkRecordable('param', params);
      const ok = await hooks.reproduce(at);
      const runId = await recordExperiment(pipeline, { name: request.name, overrides: request.overrides, status: ok ? 'FINISHED' : 'FAILED', params });
      return { runId, ok };
    });
  if (!request.temp) return run(root);
  const copy = await holdingLock(root, hooks.onWait, () => temporaryCopy(root));
  try {
    return await run(copy);
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

async function holdingLock<T>(root: string, onWait: (pid: number) => void, task: () => Promise<T>): Promise<T> {
  const release = await acquireRepoLock(join(root, MLOPS_DIR), onWait);
  try {
    return await task();
  } finally {
    release();
  }
}

/**
 * A copy of the workspace under `.mlops/tmp/exps/` (DVC keeps its temporary runs under `.dvc/tmp/exps/`),
 * inside the git work tree so runs record the same commit. The cache and the tracking folder are
 * links to the project's own, so the run's objects and records outlive the copy.
 */
async function temporaryCopy(root: string): Promise<string> {
  const copy = join(root, MLOPS_DIR, 'tmp', 'exps', randomBytes(6).toString('hex'));
  const tracking = trackingConfig(root).dir;
  const trackingRel = relative(root, tracking);
  const trackingInside = trackingRel !== '' && !trackingRel.startsWith('..') && !isAbsolute(trackingRel);
  // The top folder holding the tracking folder (`mlruns` itself, usually) is linked, not copied.
  const trackingTop = trackingInside ? trackingRel.split(sep)[0]! : undefined;
  const skipped = new Set(['.git', MLOPS_DIR, 'node_modules', ...(trackingTop ? [trackingTop] : [])]);
  // Entry by entry: the copy lies inside the root, and a folder cannot be copied into itself.
  for (const entry of await readdir(root)) {
    if (!skipped.has(entry)) await cp(join(root, entry), join(copy, entry), { recursive: true });
  }
  await mkdir(join(root, MLOPS_DIR, 'cache'), { recursive: true });
  await mkdir(join(copy, MLOPS_DIR), { recursive: true });
  await symlink(join(root, MLOPS_DIR, 'cache'), join(copy, MLOPS_DIR, 'cache'), 'dir');
  if (trackingTop) {
    await mkdir(tracking, { recursive: true });
    await symlink(join(root, trackingTop), join(copy, trackingTop), 'dir');
  }
  return copy;
}
