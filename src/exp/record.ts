import { loadPipeline } from '../pipeline/load.js';
import { metricsFiles, paramsFiles, readSnapshot, type Snapshot } from '../metrics/collect.js';
import { workspaceReader } from '../metrics/tree.js';
import { DEFAULT_PARAMS_FILE } from '../params/params.js';
import { startRun } from '../tracking/tracked-run.js';
import type { RunEndStatus } from '../tracking/run.js';

export const EXPERIMENT_TAG = 'mlops.kind';
export const EXPERIMENT_KIND = 'experiment';
export const OVERRIDES_TAG = 'mlops.exp.overrides';

export interface ExperimentValues {
  readonly params: Record<string, unknown>;
  readonly metrics: Record<string, number>;
}

/**
 * The workspace's params and numeric metrics, flattened to MLflow-legal keys: keys of params.yaml
 * as they are (`train.cv_folds`), keys of any other file prefixed with its path (`reports/metrics.json/accuracy`
 * when two metrics files share a key, else just `accuracy`).
 */
export async function workspaceValues(root: string, file?: string): Promise<ExperimentValues> {
  const pipeline = loadPipeline(root, file);
  const tree = workspaceReader(root);
  const params = keyed(await readSnapshot(tree, paramsFiles(pipeline), 'params'), (f) => f === DEFAULT_PARAMS_FILE);
  const metrics = keyed(await readSnapshot(tree, metricsFiles(pipeline), 'metrics'), () => false);
  const numeric = Object.fromEntries(Object.entries(metrics).filter((e): e is [string, number] => typeof e[1] === 'number'));
  return { params, metrics: numeric };
}

function keyed(snapshot: Snapshot, bare: (file: string) => boolean): Record<string, unknown> {
  const seen = new Map<string, number>();
  for (const values of snapshot.values()) for (const k of Object.keys(values ?? {})) seen.set(k, (seen.get(k) ?? 0) + 1);
  const out: Record<string, unknown> = {};
  for (const [file, values] of snapshot) {
    for (const [k, v] of Object.entries(values ?? {})) out[bare(file) || seen.get(k) === 1 ? k : `${file}/${k}`] = v;
  }
  return out;
}

/** Records one experiment as a run in the tracking folder, so MLflow's tools see it too. */
export async function recordExperiment(
  root: string,
  options: { name?: string; overrides: readonly string[]; status: RunEndStatus; file?: string },
): Promise<string> {
  const values = await workspaceValues(root, options.file);
  const run = await startRun({ root, stageName: 'exp', runName: options.name, params: values.params });
  await run.setTags({ [EXPERIMENT_TAG]: EXPERIMENT_KIND, [OVERRIDES_TAG]: options.overrides.join(' ') });
  await run.logMetrics(values.metrics);
  await run.end(options.status);
  return run.runId;
}
