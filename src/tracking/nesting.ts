import type { Run } from './store.js';
import { PARENT_RUN_TAG } from './tracked-run.js';

export interface RunGroup {
  run: Run;
  /** Nested runs (grid candidates) whose parent is in the same listing. */
  children: Run[];
}

/**
 * Runs grouped under their parent (MLflow's mlflow.parentRunId) when the parent is listed too; others
 * stay top-level. Top-level order is the listing's; children keep it when `ordered`, else they come in
 * creation order, which for grid candidates is grid order.
 */
export function nestRuns(runs: readonly Run[], ordered: boolean): RunGroup[] {
  const listed = new Set(runs.map((r) => r.info.run_id));
  const groups = new Map<string, RunGroup>();
  const top: RunGroup[] = [];
  for (const run of runs) {
    const parent = run.tags[PARENT_RUN_TAG];
    if (parent !== undefined && listed.has(parent)) continue;
    const group = { run, children: [] };
    groups.set(run.info.run_id, group);
    top.push(group);
  }
  for (const run of runs) {
    const parent = run.tags[PARENT_RUN_TAG];
    if (parent !== undefined && groups.has(parent) && run.info.run_id !== parent) groups.get(parent)!.children.push(run);
  }
  if (!ordered) for (const g of top) g.children.sort((a, b) => a.info.start_time - b.info.start_time);
  return top;
}

/** The metric keys most runs of a listing have (ties by name), for its columns. */
export function keyMetrics(runs: readonly Run[], limit: number, exclude: ReadonlySet<string> = new Set()): string[] {
  const counts = new Map<string, number>();
  for (const run of runs) for (const key of Object.keys(run.metrics)) if (!exclude.has(key)) counts.set(key, (counts.get(key) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([key]) => key);
}
