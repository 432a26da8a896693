import { existsSync } from 'node:fs';
import { ConflictError } from '../core/errors.js';
import { join } from 'node:path';
import type { CheckoutReport } from './checkout.js';
import type { GcOptions } from './gc.js';
import type { Emit, ExecutorEvent } from './events.js';
import type { ReproOptions, StageResult } from './executor.js';
import { buildGraph } from './graph.js';
import { openFull, openSnapshot, saveSnapshot, SnapshotMiss } from './open.js';
import { changeReasons, readInputs } from './status.js';
import type { PipelineHost, Workspace } from './workspace.js';

export interface Selection {
  /** The pipeline file (`-f`), relative to root; default pipeline.yaml, else dvc.yaml. */
  readonly file?: string;
  readonly targets?: readonly string[];
  readonly downstream?: boolean;
  readonly singleItem?: boolean;
}

function select(ws: Workspace, selection: Selection) {
  const graph = buildGraph(ws.pipeline);
  const stages = graph.select([...(selection.targets ?? [])], { downstream: selection.downstream, singleItem: selection.singleItem });
  return { stages, upstream: (name: string) => graph.upstream(name).map((s) => s.name) };
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
  return withWorkspace(host, request.file, emit, { lock: !request.dry }, async (ws) => {
    const { stages, upstream } = select(ws, request);
    const results = await reproduce(ws, stages, upstream, request, emit);
    await saveSnapshot(request.file, ws);
    return results;
  });
}

/** The no-op fast path: every selected stage up to date by the snapshot; undefined otherwise. */
async function allUpToDate(host: PipelineHost, selection: Selection) {
  const ws = openSnapshot(host, selection.file);
  // Another repro is changing things: wait for it the normal way.
  if (!ws || existsSync(join(ws.mlopsDir, 'repro.lock'))) return undefined;
  const { stages } = select(ws, selection);
  const events: ExecutorEvent[] = [];
  try {
    for (const stage of stages) {
      if ((await changeReasons(ws, stage, await readInputs(ws, stage))).length > 0) return undefined;
      events.push({ type: 'stage-done', stage: stage.name, outcome: stage.frozen ? 'frozen' : 'up-to-date', reasons: [] });
    }
  } catch (error) {
    if (error instanceof SnapshotMiss) return undefined;
    throw error;
  }
  await ws.state.save();
  return { events, results: new Map<string, StageResult>(stages.map((s) => [s.name, 'ok'])) };
}

/** `mlops checkout`: restores outputs; waits for a running repro, which may be writing them. */
export async function checkoutOutputs(host: PipelineHost, selection: Selection, emit: Emit): Promise<CheckoutReport> {
  const { checkout } = await import('./checkout.js');
  return withWorkspace(host, selection.file, emit, { lock: true }, (ws) => checkout(ws, select(ws, selection).stages));
}

/** `mlops gc`: waits for a running repro, whose new objects are not in any lock file yet. */
export async function gc(host: PipelineHost, options: { file?: string } & GcOptions, emit: Emit): Promise<string[]> {
  // Objects of `dvc add`ed data are in no pipeline's lock file: collecting here would delete them.
  if (host.cacheOwner) throw new ConflictError(`the cache is ${host.cacheOwner}'s, shared with it: run '${host.cacheOwner.toLowerCase()} gc', which knows every object it references`);
  const { collectGarbage } = await import('./gc.js');
  return withWorkspace(host, options.file, emit, { lock: true }, (ws) => collectGarbage(ws, options));
}

/**
 * Runs `task` on a fully parsed workspace, holding the repo lock when `lock` is set. Having waited for
 * another run, it parses again: that run has just rewritten the lock file.
 */
async function withWorkspace<T>(
  host: PipelineHost,
  file: string | undefined,
  emit: Emit,
  { lock }: { lock: boolean },
  task: (ws: Workspace) => Promise<T>,
): Promise<T> {
  const ws = await openFull(host, file);
  if (!lock) return task(ws);
  host.ensureMlopsDir();
  const { acquireRepoLock } = await import('./repo-lock.js');
  let waited = false;
  const release = await acquireRepoLock(ws.mlopsDir, (pid) => {
    waited = true;
    emit({ type: 'waiting-for-lock', pid });
  });
  try {
    return await task(waited ? await openFull(host, file) : ws);
  } finally {
    release();
  }
}
