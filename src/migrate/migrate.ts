import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { ConflictError, NotFoundError } from '../core/errors.js';
import { UnknownModelError } from '../registry/errors.js';
import { diffModel, isEmptyDiff } from '../registry/snapshot.js';
import type { ModelRegistry, ModelSnapshot } from '../registry/store.js';
import type { Metric, Run, SkippedRun, TrackingStore } from '../tracking/store.js';

// `mlops tracking migrate`: everything one store holds copied into another, through the TrackingStore
// and ModelRegistry interfaces only, so any two kinds of store work. Nothing is remembered between
// runs: each run, experiment and model is compared with what the destination already holds and only
// the difference is written. So a second migration copies nothing, and one interrupted halfway (even
// by kill -9) is completed by running it again. A run is created RUNNING and gets its real status
// last: until then it is visibly unfinished, and the next migration finishes it.

/** Both halves of a tracking URI's stores. */
export interface Stores {
  readonly tracking: TrackingStore;
  readonly registry: ModelRegistry;
}

export interface MigrationCounts {
  experiments: number;
  runs: number;
  params: number;
  /** Metric values (every step of every history). */
  metrics: number;
  tags: number;
  artifacts: number;
  /** Status, end time or deletion of a run set to the source's. */
  updates: number;
  models: number;
  versions: number;
  /** Alias moves of the registry's history. */
  events: number;
  /** Aliases, descriptions or deletions of versions made equal to the source's. */
  modelChanges: number;
}

export interface MigrationProgress {
  readonly done: number;
  readonly total: number;
  /** What was just compared or copied: `run <id>`, `model <name>`. */
  readonly item: string;
}

export interface MigrateOptions {
  /** Count what would be copied; write nothing. */
  readonly dryRun?: boolean;
  readonly onProgress?: (progress: MigrationProgress) => void;
}

export interface MigrationResult {
  readonly counts: MigrationCounts;
  /** Source runs that could not be read: not copied (the caller reports them). */
  readonly skipped: SkippedRun[];
  /** Deleted experiments of the source, which are not copied. */
  readonly deletedExperiments: string[];
}

const METRIC_BATCH = 1000;

export function emptyCounts(): MigrationCounts {
  return { experiments: 0, runs: 0, params: 0, metrics: 0, tags: 0, artifacts: 0, updates: 0, models: 0, versions: 0, events: 0, modelChanges: 0 };
}

export async function migrate(from: Stores, to: Stores, options: MigrateOptions = {}): Promise<MigrationResult> {
  const counts = emptyCounts();
  const write = !options.dryRun;
  const experiments = await from.tracking.listExperiments('active');
  const deletedExperiments = (await from.tracking.listExperiments('deleted')).map((e) => e.name);
  // Read every run's list first, so the progress bar knows its length.
  const plan: { destId: string | undefined; runs: Run[] }[] = [];
  const skipped: SkippedRun[] = [];
  for (const experiment of experiments) {
    const found = await from.tracking.searchRuns({ experimentIds: [experiment.experiment_id], view: 'all' });
    skipped.push(...found.skipped);
    let held = await to.tracking.getExperimentByName(experiment.name);
    if (!held) counts.experiments++;
    if (!held && write) {
      const id = await to.tracking.getOrCreateExperiment(experiment.name, experiment.creation_time === null ? {} : { creationTime: experiment.creation_time });
      held = await to.tracking.getExperiment(id);
    }
    const tags = changedEntries(experiment.tags, held?.tags ?? {});
    counts.tags += Object.keys(tags).length;
    if (held && write && Object.keys(tags).length) await to.tracking.setExperimentTags(held.experiment_id, tags);
    plan.push({ destId: held?.experiment_id, runs: found.runs });
  }
  const models = await from.registry.listModels();
  const total = plan.reduce((n, p) => n + p.runs.length, 0) + models.length;
  let done = 0;
  const scratch = await mkdtemp(join(tmpdir(), 'mlops-migrate-'));
  try {
    for (const { destId, runs } of plan) {
      for (const run of runs) {
        await copyRun(from.tracking, to.tracking, run, destId, counts, write, scratch);
        options.onProgress?.({ done: ++done, total, item: `run ${run.info.run_id}` });
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  for (const model of models) {
    await copyModel(await from.registry.exportModel(model.name), to.registry, counts, write);
    options.onProgress?.({ done: ++done, total, item: `model ${model.name}` });
  }
  return { counts, skipped, deletedExperiments };
}

/** The entries of `source` that `held` lacks or holds with another value. */
function changedEntries(source: Record<string, string>, held: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter(([k, v]) => held[k] !== v));
}

async function heldRun(store: TrackingStore, runId: string): Promise<Run | undefined> {
  try {
    return await store.getRun(runId);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/**
 * One run made equal in the destination: created under its id if absent, then the params, metric
 * values, tags and artifacts it lacks, then the status, end time and deletion.
 */
async function copyRun(
  from: TrackingStore, to: TrackingStore, run: Run, destExperimentId: string | undefined,
  counts: MigrationCounts, write: boolean, scratch: string,
): Promise<void> {
  const { info } = run;
  const held = await heldRun(to, info.run_id);
  if (held && held.info.experiment_id !== destExperimentId) {
    throw new ConflictError(`run ${info.run_id} exists in the destination in another experiment (${held.info.experiment_id}); not copied`);
  }
  if (!held) {
    counts.runs++;
    counts.tags += Object.keys(run.tags).length;
    if (write) await to.createRun({ experimentId: destExperimentId!, runId: info.run_id, runName: info.run_name, userId: info.user_id, startTime: info.start_time, tags: run.tags });
  } else {
    const tags = changedEntries(run.tags, held.tags);
    counts.tags += Object.keys(tags).length;
    if (write && Object.keys(tags).length) await to.setTags(info.run_id, tags);
  }
  const params = changedEntries(run.params, held?.params ?? {});
  counts.params += Object.keys(params).length;
  // A param held with another value is refused by the store: params never change.
  if (write && Object.keys(params).length) await to.logParams(info.run_id, params);

  for (const key of Object.keys(run.metrics).sort()) {
    const missing = missingValues(await from.getMetricHistory(info.run_id, key), held ? await to.getMetricHistory(info.run_id, key) : []);
    counts.metrics += missing.length;
    if (write) for (let i = 0; i < missing.length; i += METRIC_BATCH) await to.logMetrics(info.run_id, missing.slice(i, i + METRIC_BATCH));
  }

  const heldFiles = new Map((held ? await to.listArtifacts(info.run_id) : []).map((f) => [f.path, f.size]));
  for (const file of await from.listArtifacts(info.run_id)) {
    if (heldFiles.get(file.path) === file.size) continue;
    counts.artifacts++;
    if (!write) continue;
    // Downloaded under its own name into a folder of its own, then logged into the same folder.
    const local = join(scratch, String(counts.artifacts), posix.basename(file.path));
    await from.downloadArtifact(info.run_id, file.path, local);
    const folder = posix.dirname(file.path);
    await to.logArtifact(info.run_id, local, folder === '.' ? '' : folder);
    await rm(join(scratch, String(counts.artifacts)), { recursive: true, force: true });
  }

  if (!held || held.info.status !== info.status || held.info.end_time !== info.end_time) {
    counts.updates++;
    if (write) await to.setStatus(info.run_id, info.status, info.end_time);
  }
  if (info.lifecycle_stage === 'deleted' && held?.info.lifecycle_stage !== 'deleted') {
    counts.updates++;
    if (write) await to.deleteRun(info.run_id);
  }
}

/**
 * The values of `source` that `held` lacks: all of them for a metric not copied yet, else those whose
 * (step, time, value) the destination does not hold. A value logged twice at the same step and time is
 * one row in MLflow's SQL tables (its primary key), so presence, not a count, is compared.
 */
function missingValues(source: readonly Metric[], held: readonly Metric[]): Metric[] {
  if (held.length === 0) return [...source];
  const key = (m: Metric) => `${m.step} ${m.timestamp} ${Number.isNaN(m.value) ? 'nan' : m.value}`;
  const have = new Set(held.map(key));
  return source.filter((m) => !have.has(key(m)));
}

async function copyModel(snapshot: ModelSnapshot, to: ModelRegistry, counts: MigrationCounts, write: boolean): Promise<void> {
  let held: ModelSnapshot | undefined;
  try {
    held = await to.exportModel(snapshot.name);
  } catch (error) {
    if (!(error instanceof UnknownModelError)) throw error;
  }
  const diff = diffModel(snapshot, held);
  if (isEmptyDiff(diff)) return;
  if (diff.created) counts.models++;
  counts.versions += diff.versions;
  counts.events += diff.events;
  counts.modelChanges += diff.changes;
  if (write) await to.importModel(snapshot);
}
