import { loadPipeline } from '../pipeline/load.js';
import { metricsFiles, paramsFiles, readSnapshot, type Snapshot } from '../metrics/collect.js';
import { workspaceReader } from '../metrics/tree.js';
import { DEFAULT_PARAMS_FILE } from '../params/params.js';
import { UsageError } from '../core/errors.js';
import { keyProblem, validateValueLength } from '../tracking/keys.js';
import { paramText, withTrackedRun } from '../tracking/tracked-run.js';
import type { RunEndStatus } from '../tracking/run.js';
import type { Project } from '../project/project.js';

export const EXPERIMENT_TAG = 'mlops.kind';
export const EXPERIMENT_KIND = 'experiment';
export const OVERRIDES_TAG = 'mlops.exp.overrides';

export interface ExperimentValues {
  readonly params: Record<string, unknown>;
  readonly metrics: Record<string, number>;
}

/** One value of the workspace under the key it is recorded with, and the file it came from. */
interface KeyedValue {
  readonly key: string;
  readonly value: unknown;
  readonly file: string;
}

/**
 * The workspace's params and numeric metrics, flattened to MLflow-legal keys: keys of params.yaml
 * as they are (`train.cv_folds`), keys of any other file prefixed with its path (`reports/metrics.json/accuracy`
 * when two metrics files share a key, else just `accuracy`).
 */
async function workspaceEntries(root: string, file?: string): Promise<{ params: KeyedValue[]; metrics: KeyedValue[] }> {
  const pipeline = loadPipeline(root, file);
  const tree = workspaceReader(root);
  const params = keyed(await readSnapshot(tree, paramsFiles(pipeline), 'params'), (f) => f === DEFAULT_PARAMS_FILE);
  const metrics = keyed(await readSnapshot(tree, metricsFiles(pipeline), 'metrics'), () => false);
  return { params, metrics: metrics.filter((e) => typeof e.value === 'number') };
}

export async function workspaceValues(root: string, file?: string): Promise<ExperimentValues> {
  const { params, metrics } = await workspaceEntries(root, file);
  return { params: asRecord(params), metrics: asRecord(metrics) as Record<string, number> };
}

const asRecord = (entries: readonly KeyedValue[]) => Object.fromEntries(entries.map((e) => [e.key, e.value]));

function keyed(snapshot: Snapshot, bare: (file: string) => boolean): KeyedValue[] {
  const seen = new Map<string, number>();
  for (const values of snapshot.values()) for (const k of Object.keys(values ?? {})) seen.set(k, (seen.get(k) ?? 0) + 1);
  const out: KeyedValue[] = [];
  for (const [file, values] of snapshot) {
    for (const [k, value] of Object.entries(values ?? {})) out.push({ key: bare(file) || seen.get(k) === 1 ? k : `${file}/${k}`, value, file });
  }
  return out;
}

/**
 * A key MLflow cannot store (`acc@1`, `précision`) is refused before the run is created, naming its
 * file: the store would refuse it too, but only after leaving a half-recorded run behind.
 */
function checkRecordable(kind: 'param' | 'metric', entries: readonly KeyedValue[]): void {
  for (const { key, value, file } of entries) {
    const problem = keyProblem(key);
    if (problem) throw new UsageError(`${file}: ${kind} '${key}' cannot be recorded as an MLflow run: ${problem}`);
    if (kind === 'param') validateValueLength('param', key, paramText(value));
  }
}

/** Records one experiment as a run in the tracking folder, so MLflow's tools see it too. */
export async function recordExperiment(
  project: Project,
  options: { name?: string; overrides: readonly string[]; status: RunEndStatus; file?: string },
): Promise<string> {
  const { params, metrics } = await workspaceEntries(project.root, options.file);
  checkRecordable('param', params);
  checkRecordable('metric', metrics);
  // withTrackedRun ends the run FAILED if recording fails part-way; end() keeps the first status given.
  return withTrackedRun({ project, stageName: 'exp', runName: options.name, params: asRecord(params) }, async (run) => {
    await run.setTags({ [EXPERIMENT_TAG]: EXPERIMENT_KIND, [OVERRIDES_TAG]: options.overrides.join(' ') });
    await run.logMetrics(asRecord(metrics) as Record<string, number>);
    await run.end(options.status);
    return run.runId;
  });
}
