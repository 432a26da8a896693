// The tracking store interface, shaped like MLflow's AbstractStore: the CLI and TrackedRun talk to this,
// the folder implementation (FileStore) sits behind it, and a SQL store would be another implementation.
// Entities use MLflow's snake_case field names so they serialise to the JSON MLflow users know.
import { ConflictError, didYouMean, NotFoundError } from '../core/errors.js';
import { randomUUID } from 'node:crypto';
import { validateRunId, validateTags } from './keys.js';

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type LifecycleStage = 'active' | 'deleted';
export type ViewType = 'active' | 'deleted' | 'all';

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: LifecycleStage;
  creation_time: number | null;
  last_update_time: number | null;
  tags: Record<string, string>;
}

export interface RunInfo {
  run_id: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  lifecycle_stage: LifecycleStage;
  artifact_uri: string;
}

export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface Run {
  info: RunInfo;
  params: Record<string, string>;
  /** The latest value of each metric, by MLflow's rule (max of step, then timestamp, then value). */
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

/** A run folder that could not be read; listings report it and carry on with the others. */
export interface SkippedRun {
  path: string;
  reason: string;
}

export interface SearchRunsQuery {
  experimentIds: readonly string[];
  filter?: string;
  /** `metrics.f1 DESC`, `attributes.start_time`, ...; ASC when no direction is given. */
  orderBy?: readonly string[];
  maxResults?: number;
  view?: ViewType;
}

export interface SearchRunsResult {
  runs: Run[];
  skipped: SkippedRun[];
}

export interface CreateRunOptions {
  experimentId: string;
  runName: string;
  userId: string;
  startTime?: number;
  tags?: Record<string, string>;
  /** The id of a run copied from another store (`tracking migrate`); a new uuid when absent. */
  runId?: string;
}

export interface ExperimentOptions {
  /** The creation time of an experiment copied from another store; now when absent. */
  creationTime?: number;
}

/** One file of a run's artifacts: its path inside them (`/`-separated) and its size in bytes. */
export interface ArtifactFile {
  path: string;
  size: number;
}

export interface TrackingStore {
  /** The folder (or a database store's `s3://bucket/prefix`) every run's artifacts are kept under; a run's artifact_uri leading elsewhere is not followed. */
  readonly artifactRoot: string;
  /** Creates the experiment, or returns the id of the active one with that name. */
  getOrCreateExperiment(name: string, options?: ExperimentOptions): Promise<string>;
  /** Sets (or overwrites) experiment tags. */
  setExperimentTags(experimentId: string, tags: Record<string, string>): Promise<void>;
  getExperiment(experimentId: string): Promise<Experiment>;
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  listExperiments(view?: ViewType): Promise<Experiment[]>;

  createRun(options: CreateRunOptions): Promise<RunInfo>;
  getRun(runId: string): Promise<Run>;
  getMetricHistory(runId: string, key: string): Promise<Metric[]>;
  logParams(runId: string, params: Record<string, string>): Promise<void>;
  logMetrics(runId: string, metrics: readonly Metric[]): Promise<void>;
  setTags(runId: string, tags: Record<string, string>): Promise<void>;
  logArtifact(runId: string, localPath: string, artifactPath?: string): Promise<void>;
  /** Every file of the run's artifacts, by path. */
  listArtifacts(runId: string): Promise<ArtifactFile[]>;
  /** Copies one artifact file (a path listArtifacts gave) to `localPath`. */
  downloadArtifact(runId: string, path: string, localPath: string): Promise<void>;
  setStatus(runId: string, status: RunStatus, endTime?: number | null): Promise<void>;
  deleteRun(runId: string): Promise<void>;

  searchRuns(query: SearchRunsQuery): Promise<SearchRunsResult>;

  /**
   * A token per run of the experiment (active and deleted) that changes when the run is written: its
   * status, end, name or lifecycle stage, and (the folder store) a new param, tag or metric key. Cheap
   * next to reading the runs; what a cache of the runs compares to find the few to read again. Points
   * appended to a metric the run logged already may leave it unchanged: a cache re-reads running runs.
   */
  runVersions?(experimentId: string): Promise<Map<string, string>>;

  /** Releases connections (a database store); a command's process may also just exit. */
  close?(): Promise<void>;
}

/**
 * What every store checks before it creates a run: the tags it will carry (mlflow.runName first) are
 * valid, and the experiment exists and is active.
 */
export async function runPreconditions(store: TrackingStore, options: CreateRunOptions): Promise<{ experiment: Experiment; tags: Record<string, string>; runId: string }> {
  const tags = { 'mlflow.runName': options.runName, ...options.tags };
  validateTags(tags);
  // A copied run keeps its id (whether the store holds it already is the store's to check).
  if (options.runId !== undefined) validateRunId(options.runId);
  const experiment = await store.getExperiment(options.experimentId);
  if (experiment.lifecycle_stage !== 'active') throw new ConflictError(`experiment '${experiment.name}' is deleted`);
  return { experiment, tags, runId: options.runId ?? randomUUID().replace(/-/g, '') };
}

/** Listing order of experiments: the newest first, then by id. */
export const compareExperiments = (a: Experiment, b: Experiment): number =>
  (b.creation_time ?? 0) - (a.creation_time ?? 0) || a.experiment_id.localeCompare(b.experiment_id);

/**
 * `--experiment` given as a name or an id, on any store, with a suggestion when it is neither;
 * `shown` names the store in the message.
 */
export async function resolveExperiment(store: TrackingStore, nameOrId: string, shown: string): Promise<Experiment> {
  const all = await store.listExperiments('active');
  const found = all.find((e) => e.name === nameOrId) ?? all.find((e) => e.experiment_id === nameOrId);
  if (found) return found;
  const hint = didYouMean(nameOrId, all.map((e) => e.name));
  throw new NotFoundError(`no experiment named '${nameOrId}' in ${shown}${hint ? ` (did you mean '${hint}'?)` : ''}`);
}

/** meta.yaml stores the status as MLflow's integer enum. */
export function statusToInt(status: RunStatus): number {
  return RUN_STATUSES.indexOf(status) + 1;
}

export function statusFromInt(value: number): RunStatus | undefined {
  return RUN_STATUSES[value - 1];
}
