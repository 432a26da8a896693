import { buildGraph } from './graph.js';
import { loadPipeline } from './load.js';
import type { Emit } from './events.js';
import { reproduce, type ReproOptions, type StageResult } from './executor.js';
import { acquireRepoLock } from './repo-lock.js';
import { Workspace } from './workspace.js';
import { checkout, type CheckoutReport } from './checkout.js';
import { collectGarbage } from './gc.js';
import type { Stage } from './model.js';

export interface Selection {
  /** The pipeline file (`-f`), relative to root; default pipeline.yaml, else dvc.yaml. */
  readonly file?: string;
  readonly targets?: readonly string[];
  readonly downstream?: boolean;
  readonly singleItem?: boolean;
}

function open(root: string, selection: Selection) {
  const pipeline = loadPipeline(root, selection.file);
  const graph = buildGraph(pipeline);
  const stages: readonly Stage[] = graph.select([...(selection.targets ?? [])], {
    downstream: selection.downstream,
    singleItem: selection.singleItem,
  });
  return { ws: new Workspace(pipeline), graph, stages };
}

/** `mlops repro`: runs what changed, one repro per project at a time (a second one waits). */
export async function repro(root: string, request: Selection & ReproOptions, emit: Emit): Promise<Map<string, StageResult>> {
  const { ws, graph, stages } = open(root, request);
  const release = request.dry ? () => {} : await acquireRepoLock(ws.mlopsDir, (pid) => emit({ type: 'waiting-for-lock', pid }));
  try {
    // Re-read the lock once we hold the repo lock: the run we waited for may have just rewritten it.
    const fresh = request.dry ? ws : new Workspace(ws.pipeline);
    return await reproduce(fresh, stages, (name) => graph.upstream(name).map((s) => s.name), request, emit);
  } finally {
    release();
  }
}

/** `mlops status`: what `repro` would run and why, without running or locking anything. */
export function status(root: string, selection: Selection, emit: Emit): Promise<Map<string, StageResult>> {
  const { ws, graph, stages } = open(root, selection);
  return reproduce(ws, stages, (name) => graph.upstream(name).map((s) => s.name), { dry: true }, emit);
}

export function checkoutOutputs(root: string, selection: Selection): Promise<CheckoutReport> {
  const { ws, stages } = open(root, selection);
  return checkout(ws, stages);
}

export function gc(root: string, options: { file?: string; dry?: boolean }): Promise<string[]> {
  return collectGarbage(new Workspace(loadPipeline(root, options.file)), options);
}
