import { existsSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { Pipeline } from '../pipeline/model.js';
import { recordLockFiles } from './kept-objects.js';
import { metricsFiles, paramsFiles, readSnapshot, type Snapshot } from '../metrics/collect.js';
import { workspaceReader, type TreeReader } from '../metrics/tree.js';
import { DEFAULT_PARAMS_FILE } from '../params/params.js';
import { UsageError } from '../core/errors.js';
import { keyProblem, validateValueLength } from '../tracking/keys.js';
import { paramText, withTrackedRun } from '../tracking/tracked-run.js';
import type { RunEndStatus } from '../tracking/run.js';
import type { Project } from '../project/project.js';

export const EXPERIMENT_TAG = 'mlops.kind';
export const EXPERIMENT_KIND = 'experiment';
export const OVERRIDES_TAG = 'mlops.exp.overrides';
/** The artifact folder holding what `exp apply` brings back: params files, lock file, uncached outputs. */
export const SAVED_DIR = 'mlops.exp';
/** The tag naming the directory object (`<md5>.dir`) that holds that folder on the remote (`exp pull` on another machine). */
export const SAVED_OBJECT_TAG = 'mlops.exp.saved';

/** One value under the key it is recorded with, and the file it came from. */
interface KeyedValue {
  readonly key: string;
  readonly value: unknown;
  readonly file: string;
}

export interface ExperimentValues {
  readonly params: Record<string, unknown>;
  readonly metrics: Record<string, number>;
}

/**
 * Column names that depend only on what the pipeline declares, never on which files existed when a
 * row was recorded: params.yaml keys as they are (`train.cv_folds`); keys of any other params file,
 * and of every metrics file when the pipeline declares several, prefixed with the file's path
 * (`reports/metrics.json/accuracy`); a pipeline's only metrics file gives bare keys (`accuracy`).
 */
function keyed(snapshot: Snapshot, bare: (file: string) => boolean): KeyedValue[] {
  const out: KeyedValue[] = [];
  for (const [file, values] of snapshot) {
    for (const [k, value] of Object.entries(values ?? {})) out.push({ key: bare(file) ? k : `${file}/${k}`, value, file });
  }
  return out;
}

export async function paramEntries(pipeline: Pipeline, tree: TreeReader = workspaceReader(pipeline.root)): Promise<KeyedValue[]> {
  return keyed(await readSnapshot(tree, paramsFiles(pipeline.root, [pipeline]), 'params'), (f) => f === DEFAULT_PARAMS_FILE);
}

async function metricEntries(pipeline: Pipeline, tree: TreeReader = workspaceReader(pipeline.root)): Promise<KeyedValue[]> {
  const files = metricsFiles([pipeline]);
  const entries = keyed(await readSnapshot(tree, files, 'metrics'), () => files.length === 1);
  return entries.filter((e) => typeof e.value === 'number');
}

const asRecord = (entries: readonly KeyedValue[]) => Object.fromEntries(entries.map((e) => [e.key, e.value]));

/** The values of one tree (the workspace by default) as `exp show` and the record name them. */
export async function treeValues(pipeline: Pipeline, tree?: TreeReader): Promise<ExperimentValues> {
  return {
    params: asRecord(await paramEntries(pipeline, tree)),
    metrics: asRecord(await metricEntries(pipeline, tree)) as Record<string, number>,
  };
}

/**
 * A key MLflow cannot store (`acc@1`, `précision`) is refused before the run is created, naming its
 * file: the store would refuse it too, but only after leaving a half-recorded run behind.
 */
export function checkRecordable(kind: 'param' | 'metric', entries: readonly KeyedValue[]): void {
  for (const { key, value, file } of entries) {
    const problem = keyProblem(key);
    if (problem) throw new UsageError(`${file}: ${kind} '${key}' cannot be recorded as an MLflow run: ${problem}`);
    if (kind === 'param') validateValueLength('param', key, paramText(value));
  }
}

export interface RecordRequest {
  readonly name?: string;
  readonly overrides: readonly string[];
  readonly status: RunEndStatus;
  /** The params the stages ran with, read when the overrides were written (under the repo lock). */
  readonly params: readonly KeyedValue[];
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Records one experiment as a run in the tracking folder, so MLflow's tools see it too, with what
 * `exp apply` needs to bring it back: its params files, its lock file and its uncached outputs (the
 * cached ones are in the cache, by the lock file's hashes).
 */
export async function recordExperiment(project: Project, pipeline: Pipeline, request: RecordRequest): Promise<string> {
  const metrics = await metricEntries(pipeline);
  checkRecordable('metric', metrics);
  const root = pipeline.root;
  // withTrackedRun ends the run FAILED if recording fails part-way; end() keeps the first status given.
  return withTrackedRun({ project, stageName: 'exp', runName: request.name, params: asRecord(request.params) }, async (run) => {
    await run.setTags({ ...request.tags, [EXPERIMENT_TAG]: EXPERIMENT_KIND, [OVERRIDES_TAG]: request.overrides.join(' ') });
    await run.logMetrics(asRecord(metrics) as Record<string, number>);
    for (const rel of savedFiles(pipeline)) {
      const folder = dirname(rel);
      await run.logArtifact(`${root}/${rel}`, folder === '.' ? SAVED_DIR : `${SAVED_DIR}/${folder}`);
    }
    await recordLockFiles(project.root, run); // what gc keeps for this experiment
    await run.end(request.status);
    return run.runId;
  });
}

/** Paths relative to the root of the files `exp apply` restores from the record, those that exist. */
function savedFiles(pipeline: Pipeline): string[] {
  const uncached = pipeline.stages.flatMap((s) => s.outs.filter((o) => !o.cache).map((o) => o.rel));
  const files = [...paramsFiles(pipeline.root, [pipeline]), relative(pipeline.root, pipeline.lockFile), ...uncached];
  return [...new Set(files)].filter((rel) => existsSync(`${pipeline.root}/${rel}`));
}

