import { copyFile, cp, mkdir, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { loadPipeline } from '../pipeline/load.js';
import { acquireRepoLock, type LockWait } from '../pipeline/repo-lock.js';
import { configPath, MLOPS_DIR, setConfig } from '../project/config.js';
import type { Project } from '../project/project.js';
import { DEFAULT_ARTIFACT_ROOT, parseStoreUri } from '../project/stores.js';
import { artifactRootSetting } from '../project/tracking.js';
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
  /** More tags for the record (the queue job it ran for). */
  readonly tags?: Readonly<Record<string, string>>;
}

export interface ExpRunHooks {
  /** Reproduces the project's pipeline (the workspace, or its copy) with the repo lock held; true when every stage succeeded. */
  reproduce(project: Project): Promise<boolean>;
  /** Opens the project at another root (the temporary copy) as the command opened its own. */
  open(root: string): Project;
  /** Another command holds the repo lock: this one waits for it. */
  onWait(wait: LockWait): void;
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
export async function runExperiment(project: Project, request: ExpRunRequest, hooks: ExpRunHooks): Promise<ExpRunResult> {
  const overrides = request.overrides.map(parseOverride);
  const run = (at: Project) =>
    holdingLock(at, hooks.onWait, async () => {
      await applyOverrides(at.root, overrides);
      const pipeline = loadPipeline(at.root, request.file);
      // Read now, before any stage: exactly the values the stages run with.
      const params = await paramEntries(pipeline);
      checkRecordable('param', params);
      const ok = await hooks.reproduce(at);
      const runId = await recordExperiment(at, pipeline, { name: request.name, overrides: request.overrides, status: ok ? 'FINISHED' : 'FAILED', params, tags: request.tags });
      return { runId, ok };
    });
  if (!request.temp) return run(project);
  const copy = await holdingLock(project, hooks.onWait, () => temporaryCopy(project));
  try {
    return await run(hooks.open(copy));
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

async function holdingLock<T>(project: Project, onWait: (wait: LockWait) => void, task: () => Promise<T>): Promise<T> {
  project.ensureMlopsDir();
  const lock = await acquireRepoLock(project.mlopsDir, onWait);
  try {
    return await task();
  } finally {
    lock.release();
  }
}

/**
 * A copy of the workspace under `.mlops/tmp/exps/` (DVC keeps its temporary runs under `.dvc/tmp/exps/`),
 * inside the git work tree so runs record the same commit. Its `.mlops/config.local` points at the
 * project's own cache and tracking store, so the run's objects and records outlive the copy.
 */
async function temporaryCopy(project: Project): Promise<string> {
  const { root } = project;
  const copy = join(root, MLOPS_DIR, 'tmp', 'exps', randomBytes(6).toString('hex'));
  const inside = await project.trackingFolder();
  // Not copied: git's and the tools' folders (DVC's too: its cache settings are pinned below), and
  // the top folder holding the tracking store.
  const skipped = new Set(['.git', MLOPS_DIR, '.dvc', 'node_modules', ...(inside ? [inside.split('/')[0]!] : [])]);
  // Entry by entry: the copy lies inside the root, and a folder cannot be copied into itself.
  for (const entry of await readdir(root)) {
    if (!skipped.has(entry)) await cp(join(root, entry), join(copy, entry), { recursive: true });
  }
  await mkdir(join(copy, MLOPS_DIR), { recursive: true });
  if (existsSync(configPath(root, 'repo'))) await copyFile(configPath(root, 'repo'), configPath(copy, 'repo'));
  await pinSharedStores(project, copy);
  return copy;
}

/**
 * Points the `.mlops/config.local` of a copy of the project at `copy` (a temporary copy, a queued
 * experiment's worktree) at the project's own cache and tracking store, so what runs there outlives it.
 */
export async function pinSharedStores(project: Project, copy: string): Promise<void> {
  const tracking = await project.tracking();
  const { scheme, path } = parseStoreUri(tracking.uri, project.root);
  await mkdir(join(copy, MLOPS_DIR), { recursive: true });
  await setConfig(copy, 'local', 'cache.dir', project.cacheDir);
  await setConfig(copy, 'local', 'tracking.uri', scheme === 'file' ? path : tracking.uri);
  await setConfig(copy, 'local', 'tracking.experiment', tracking.experiment);
  // A database store keeps artifacts under the project root by default: the copy's root would take the
  // records' saved files away with it (a queued experiment's worktree is removed after the run).
  if (scheme !== 'file') await setConfig(copy, 'local', 'tracking.artifact_root', artifactRootSetting(project.root, project.config) ?? join(project.root, DEFAULT_ARTIFACT_ROOT));
}
