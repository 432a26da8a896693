// What a built-in stage needs from experiment tracking. The ML and drift code receives a TrackedRun
// from its caller and never imports a store, so it runs (and is tested) with or without tracking.

export type RunEndStatus = 'FINISHED' | 'FAILED' | 'KILLED';

export interface TrackedRun {
  readonly runId: string;
  /** Params are flattened to dotted keys by the store; a param, once logged, keeps its value. */
  logParams(params: Record<string, unknown>): Promise<void>;
  /** One line `<epoch_ms> <value> <step>` per call, as MLflow stores metrics. */
  logMetric(key: string, value: number, step?: number): Promise<void>;
  logMetrics(metrics: Record<string, number>, step?: number): Promise<void>;
  setTags(tags: Record<string, string>): Promise<void>;
  /** Copies a file (or a directory) into the run's artifacts, under `artifactPath` when given. */
  logArtifact(localPath: string, artifactPath?: string): Promise<void>;
  /** A nested run (`mlflow.parentRunId` = this run), for grid-search candidates. */
  startChild(name: string): Promise<TrackedRun>;
  end(status: RunEndStatus): Promise<void>;
}
