import { UsageError } from '../core/errors.js';
import type { TrackingStore } from './store.js';

/** What `mlops log` writes to: one existing, RUNNING run. */
interface LogTarget {
  logParams(params: Record<string, string>): Promise<void>;
  logMetric(key: string, value: number, step: number): Promise<void>;
  setTags(tags: Record<string, string>): Promise<void>;
  logArtifact(path: string, artifactPath?: string): Promise<void>;
}

/** The run `runId` of `store` (the one MLFLOW_TRACKING_URI names, in a stage); an ended run is refused. */
export async function logTarget(store: TrackingStore, runId: string): Promise<LogTarget> {
  const { info } = await store.getRun(runId);
  if (info.status !== 'RUNNING') throw new UsageError(`run ${runId} has already ended (${info.status}); mlops log writes to a running run`);
  return {
    logParams: (params) => store.logParams(runId, params),
    logMetric: (key, value, step) => store.logMetrics(runId, [{ key, value, step, timestamp: Date.now() }]),
    setTags: (tags) => store.setTags(runId, tags),
    logArtifact: (path, artifactPath) => store.logArtifact(runId, path, artifactPath),
  };
}
