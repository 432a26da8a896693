import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import { ConfigError, ConflictError } from '../core/errors.js';
import { displayPath } from '../core/display.js';
import { cwdRel, defaultFileOf } from './address.js';
import type { CheckoutOptions, CheckoutReport } from './checkout.js';
import type { Emit, ExecutorEvent } from './events.js';
import type { ReproOptions, StageResult } from './executor.js';
import type { GcOptions } from './gc.js';
import type { RepoLock } from './repo-lock.js';
import { buildGraph } from './graph.js';
import { openFull, openSnapshot, saveSnapshot, SnapshotMiss, type OpenRequest } from './open.js';
import { changeReasons, readInputs } from './status.js';
import type { PipelineHost, Workspace } from './workspace.js';

export interface Selection extends OpenRequest {
  /** Stages (`name`, `group`, `path/dvc.yaml:name`) or pipeline files, named from `cwd`. */
  readonly targets?: readonly string[];
  /**
   * Without targets: every stage of every pipeline (`repro -P`, `status`, `checkout`), instead of the
   * current folder's pipeline file and what it needs (`repro`).
   */
  readonly allPipelines?: boolean;
  readonly downstream?: boolean;
  readonly singleItem?: boolean;
  /** The caller holds the repo lock already (`exp run` holds it from its overrides to its record). */
  readonly lockHeld?: boolean;
}

function select(ws: Workspace, selection: Selection) {
  const graph = buildGraph(ws.pipelines);
  const here = cwdRel(ws.root, selection.cwd);
  let targets = [...(selection.targets ?? [])];
  if (targets.length === 0 && !selection.allPipelines) {
    // DVC's default target: the pipeline file of the current folder (or the one named by --file). A
    // folder without one (data/, src/) takes the nearest one above it, up to the root.
    const own = selection.file !== undefined ? ws.pipelines[0]?.fileRel : nearestFile(ws, here);
    if (own === undefined) {
      throw new ConfigError('no pipeline.yaml or dvc.yaml here or above (name a stage as path/to/dvc.yaml:stage, or use -P for every pipeline)', {
        file: displayPath(selection.cwd),
      });
    }
    targets = [posix.relative(here, own)];
  }
  const stages = graph.select(targets, { downstream: selection.downstream, singleItem: selection.singleItem, cwdRel: here });
  return { stages, upstream: (address: string) => graph.upstream(address).map((s) => s.address) };
}

function nearestFile(ws: Workspace, dirRel: string): string | undefined {
  for (let dir = dirRel; ; dir = posix.dirname(dir)) {
    const own = defaultFileOf(ws.pipelines, dir);
    if (own !== undefined || dir === '.') return own;
  }
}

/**
 * `mlops repro` (and, with `dry`, `mlops status`): runs what changed, one repro per project at a time
 * (a second one waits). A run in which nothing changed is answered from the snapshot of the last full
 * parse; anything that would run goes through a full parse and validation first.
 */
export async function repro(host: PipelineHost, request: Selection & ReproOptions, emit: Emit): Promise<Map<string, StageResult>> {
  if (!request.force) {
    const unchanged = await allUpToDate(host, request);
    if (unchanged) {
      for (const event of unchanged.events) emit(event);
      return unchanged.results;
    }
  }
  // Only a run that may execute something loads the executor (and execa, when a stage really runs).
  const { reproduce } = await import('./executor.js');
  return withWorkspace(host, request, emit, { lock: !request.dry && !request.lockHeld }, async (ws, walked, lock) => {
    const { stages, upstream } = select(ws, request);
    // A missing param stops the run before any stage (DVC fails only when it reaches the stage).
    if (!request.dry) ws.params.require(stages.filter((s) => !s.frozen), ws.pipelines);
    const results = await reproduce(ws, stages, upstream, { ...request, groups: lock }, emit);
    if (ws.pipelines.some((p) => p.stages.length > 0)) {
      host.ensureMlopsDir();
      await saveSnapshot(request, ws, walked);
    }
    return results;
  });
}

/** The no-op fast path: every selected stage up to date by the snapshot; undefined otherwise. */
async function allUpToDate(host: PipelineHost, selection: Selection) {
  const ws = openSnapshot(host, selection);
  // Another repro is changing things: wait for it the normal way.
  if (!ws || (!selection.lockHeld && existsSync(join(ws.mlopsDir, 'repro.lock')))) return undefined;
  const events: ExecutorEvent[] = [];
  try {
    const { stages } = select(ws, selection);
    for (const stage of stages) {
      if ((await changeReasons(ws, stage, await readInputs(ws, stage))).length > 0) return undefined;
      events.push({ type: 'stage-done', stage: stage.address, outcome: stage.frozen ? 'frozen' : 'up-to-date', reasons: [] });
    }
    await ws.state.save();
    return { events, results: new Map<string, StageResult>(stages.map((s) => [s.address, 'ok'])) };
  } catch (error) {
    // Anything unusual (a target the snapshot cannot resolve, a params file it did not keep) is
    // answered by the full parse, which reports it properly.
    if (error instanceof SnapshotMiss || error instanceof ConfigError) return undefined;
    throw error;
  }
}

/** `mlops checkout`: restores outputs; waits for a running repro, which may be writing them. */
export async function checkoutOutputs(host: PipelineHost, selection: Selection & CheckoutOptions, emit: Emit): Promise<CheckoutReport> {
  const { checkout } = await import('./checkout.js');
  return withWorkspace(host, selection, emit, { lock: !selection.lockHeld }, (ws) => checkout(ws, select(ws, selection).stages, selection));
}

/** A cached output as a lock file records it: what `push`, `pull` and `status -c` move and compare. */
export interface LockedOutput {
  /** The output's path from the root. */
  readonly path: string;
  readonly md5: string;
  readonly size: number;
}

/** The cached outputs the lock files record for the selected stages (none recorded, none listed). */
export async function lockedOutputs(host: PipelineHost, selection: Selection): Promise<LockedOutput[]> {
  const { ws } = await openFull(host, selection);
  return select(ws, selection).stages.flatMap((stage) => {
    const locked = new Map((ws.lock.get(stage)?.outs ?? []).map((o) => [o.path, o]));
    return stage.outs.flatMap((out) => {
      const entry = out.cache ? locked.get(out.path) : undefined;
      return entry ? [{ path: out.rel, md5: entry.md5, size: entry.size }] : [];
    });
  });
}

/** `mlops gc`: asks `confirm` first; waits for a running repro, whose new objects are not in any lock file yet. */
export async function gc(host: PipelineHost, request: OpenRequest & GcOptions & { confirm?: () => Promise<void> }, emit: Emit): Promise<string[]> {
  // Objects of `dvc add`ed data are in no pipeline's lock file: collecting here would delete them.
  if (host.cacheOwner) throw new ConflictError(`the cache is ${host.cacheOwner}'s, shared with it: run '${host.cacheOwner.toLowerCase()} gc', which knows every object it references`);
  await request.confirm?.(); // the user's go-ahead (or a refusal), once gc is known to be possible
  const { collectGarbage } = await import('./gc.js');
  return withWorkspace(host, request, emit, { lock: true }, (ws) => collectGarbage(ws, request));
}

/**
 * Runs `task` on a fully parsed workspace, holding the repo lock when `lock` is set. Having waited for
 * another run, it parses again: that run has just rewritten the lock file. A project without a single
 * stage writes nothing (no lock, no `.mlops/`).
 */
async function withWorkspace<T>(
  host: PipelineHost,
  request: OpenRequest,
  emit: Emit,
  { lock }: { lock: boolean },
  task: (ws: Workspace, walked: readonly string[], lock?: RepoLock) => Promise<T>,
): Promise<T> {
  const opened = await openFull(host, request);
  if (!lock || opened.ws.pipelines.every((p) => p.stages.length === 0)) return task(opened.ws, opened.walked);
  host.ensureMlopsDir();
  const { acquireRepoLock } = await import('./repo-lock.js');
  let waited = false;
  const repoLock = await acquireRepoLock(opened.ws.mlopsDir, (wait) => {
    waited = true;
    emit({ type: 'waiting-for-lock', ...wait });
  });
  try {
    const { ws, walked } = waited ? await openFull(host, request) : opened;
    return await task(ws, walked, repoLock);
  } finally {
    repoLock.release();
  }
}
