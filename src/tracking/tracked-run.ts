import { userInfo } from 'node:os';
import { UsageError } from '../core/errors.js';
import { flatten } from '../core/flatten.js';
import { onInterrupt } from '../core/interrupt.js';
import { currentProcess } from '../core/process.js';
import { gitTags } from './git-tags.js';
import type { Project } from '../project/project.js';
import type { RunEndStatus, TrackedRun } from './run.js';
import type { TrackingStore } from './store.js';

export const STAGE_TAG = 'mlops.stage';
export const PARENT_RUN_TAG = 'mlflow.parentRunId';
/** Which process owns a RUNNING run: when it is gone, the run is dead (see liveness.ts). */
export const PID_TAG = 'mlops.pid';
export const HOST_TAG = 'mlops.host';
export const PROCESS_START_TAG = 'mlops.process_start';

/** The tags naming this process as a run's owner. */
export function ownerTags(): Record<string, string> {
  const me = currentProcess();
  return { [PID_TAG]: String(me.pid), [HOST_TAG]: me.host ?? '', ...(me.start ? { [PROCESS_START_TAG]: me.start } : {}) };
}

export interface StartRunOptions {
  /** The project: its root (git tags) and tracking store and experiment. */
  project: Project;
  /** The built-in command being run (`train`, `evaluate`...). */
  stageName: string;
  /** The pipeline stage running it (MLOPS_STAGE, as the CLI found it), tagged instead of stageName. */
  pipelineStage?: string;
  runName?: string;
  /** Logged as params, flattened to dotted keys. */
  params?: Record<string, unknown>;
  /** MLflow's MLFLOW_RUN_ID: log into this existing run (a pipeline stage's) instead of a new one. */
  runId?: string;
  /** Tags for a new run beyond the standard ones. */
  tags?: Record<string, string>;
}

/** MLflow's value for mlflow.user: the login name, as Python's getpass.getuser() finds it. */
export function userName(): string {
  const fromEnv = process.env.LOGNAME || process.env.USER || process.env.LNAME || process.env.USERNAME;
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** A param value as MLflow stores it: text, with lists as JSON. */
export function paramText(value: unknown): string {
  return typeof value === 'string' ? value : Array.isArray(value) ? JSON.stringify(value) : String(value);
}

function defaultRunName(stage: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stage}-${stamp}`;
}

/** A TrackedRun on a TrackingStore. `end` takes effect once: the first status recorded wins. */
class StoreTrackedRun implements TrackedRun {
  private ended = false;
  /** Children not ended yet: they end with this run, so a failure cannot leave them RUNNING. */
  private readonly openChildren = new Set<StoreTrackedRun>();

  constructor(
    private readonly store: TrackingStore,
    readonly runId: string,
    private readonly experimentId: string,
    /** Tags every run of this invocation carries (user, source, git, stage); children inherit them. */
    private readonly contextTags: Record<string, string>,
    private readonly parent?: StoreTrackedRun,
  ) {}

  async logParams(params: Record<string, unknown>): Promise<void> {
    const flat = flatten(params);
    await this.store.logParams(this.runId, Object.fromEntries(Object.entries(flat).map(([k, v]) => [k, paramText(v)])));
  }

  async logMetric(key: string, value: number, step = 0): Promise<void> {
    await this.store.logMetrics(this.runId, [{ key, value, step, timestamp: Date.now() }]);
  }

  async logMetrics(metrics: Record<string, number>, step = 0): Promise<void> {
    const timestamp = Date.now();
    await this.store.logMetrics(this.runId, Object.entries(metrics).map(([key, value]) => ({ key, value, step, timestamp })));
  }

  async setTags(tags: Record<string, string>): Promise<void> {
    await this.store.setTags(this.runId, tags);
  }

  async logArtifact(localPath: string, artifactPath?: string): Promise<void> {
    await this.store.logArtifact(this.runId, localPath, artifactPath);
  }

  async startChild(name: string): Promise<TrackedRun> {
    const child = await createTrackedRun(this.store, this.experimentId, name, { ...this.contextTags, [PARENT_RUN_TAG]: this.runId }, this);
    this.openChildren.add(child);
    return child;
  }

  async end(status: RunEndStatus): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.parent?.openChildren.delete(this);
    for (const child of [...this.openChildren]) await child.end(status);
    await this.store.setStatus(this.runId, status, Date.now());
  }
}

async function createTrackedRun(
  store: TrackingStore, experimentId: string, runName: string, tags: Record<string, string>, parent?: StoreTrackedRun,
): Promise<StoreTrackedRun> {
  const info = await store.createRun({ experimentId, runName, userId: tags['mlflow.user'] ?? userName(), tags });
  return new StoreTrackedRun(store, info.run_id, experimentId, tags, parent);
}

/** Starts a RUNNING run in the project's tracking folder and experiment, with MLflow's standard tags. */
export async function startRun(options: StartRunOptions): Promise<TrackedRun> {
  const { store, experiment } = await options.project.tracking();
  const stage = options.pipelineStage || options.stageName;
  const contextTags: Record<string, string> = {
    'mlflow.user': userName(),
    'mlflow.source.name': `mlops ${options.stageName}`,
    'mlflow.source.type': 'LOCAL',
    [STAGE_TAG]: stage,
    ...(await gitTags(options.project.root)),
    ...ownerTags(),
    ...options.tags,
  };
  const run = options.runId
    ? await attach(store, options.runId, contextTags)
    : await createTrackedRun(store, await store.getOrCreateExperiment(experiment), options.runName ?? defaultRunName(stage), contextTags);
  try {
    if (options.params) await run.logParams(options.params);
  } catch (error) {
    await run.end('FAILED'); // a param MLflow could not store: the run must not stay RUNNING
    throw error;
  }
  return run;
}

/** The run a pipeline stage's environment names; its nested runs get this process's context tags. */
async function attach(store: TrackingStore, runId: string, contextTags: Record<string, string>): Promise<StoreTrackedRun> {
  const { info } = await store.getRun(runId).catch(() => {
    throw new UsageError(`MLFLOW_RUN_ID '${runId}': no such run in the project's tracking folder`);
  });
  if (info.status !== 'RUNNING') throw new UsageError(`MLFLOW_RUN_ID '${runId}': the run has already ended (${info.status})`);
  return new StoreTrackedRun(store, runId, info.experiment_id, contextTags);
}

/**
 * Runs `fn` inside a tracked run: FINISHED when it returns, FAILED when it throws (the error goes on),
 * FAILED on Ctrl-C (as MLflow's `with start_run()` records an interrupt) and KILLED on SIGTERM, before
 * the process exits 130 or 143.
 */
export async function withTrackedRun<T>(options: StartRunOptions, fn: (run: TrackedRun) => Promise<T>): Promise<T> {
  const run = await startRun(options);
  const removeHandlers = onInterrupt((signal) => run.end(signalStatus(signal)));
  try {
    const result = await fn(run);
    await run.end('FINISHED');
    return result;
  } catch (error) {
    await run.end('FAILED');
    throw error;
  } finally {
    removeHandlers();
  }
}

/** How an interrupted run ends: FAILED on Ctrl-C, as MLflow records a KeyboardInterrupt; KILLED otherwise. */
function signalStatus(signal: NodeJS.Signals): RunEndStatus {
  return signal === 'SIGINT' ? 'FAILED' : 'KILLED';
}
