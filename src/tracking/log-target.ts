import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../core/errors.js';
import { FileStore } from './file-store.js';
import { openStore } from './open.js';

/** What `mlops log` writes to: one existing run, named by id, in the store a tracking URI names. */
interface LogTarget {
  logParams(params: Record<string, string>): Promise<void>;
  logMetric(key: string, value: number, step: number): Promise<void>;
  setTags(tags: Record<string, string>): Promise<void>;
  logArtifact(path: string, artifactPath?: string): Promise<void>;
}

/**
 * The run `runId` in the folder `trackingUri` names (a `file:` URI or a path, as MLflow accepts), else
 * in the project's tracking folder. Only local folder stores exist here: an http(s) URI is refused.
 */
export async function logTarget(runId: string, trackingUri: string | undefined, root: () => string): Promise<LogTarget> {
  const store = trackingUri ? new FileStore(storeDir(trackingUri)) : openStore(root()).store;
  const { info } = await store.getRun(runId);
  if (info.status !== 'RUNNING') throw new UsageError(`run ${runId} has already ended (${info.status}); mlops log writes to a running run`);
  return {
    logParams: (params) => store.logParams(runId, params),
    logMetric: (key, value, step) => store.logMetrics(runId, [{ key, value, step, timestamp: Date.now() }]),
    setTags: (tags) => store.setTags(runId, tags),
    logArtifact: (path, artifactPath) => store.logArtifact(runId, resolve(path), artifactPath),
  };
}

function storeDir(uri: string): string {
  if (uri.startsWith('file:')) return fileURLToPath(uri);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) throw new UsageError(`MLFLOW_TRACKING_URI '${uri}': only a local folder (file: URI or path) is supported`);
  return isAbsolute(uri) ? uri : resolve(uri);
}
