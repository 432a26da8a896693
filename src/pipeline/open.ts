import { join } from 'node:path';
import { LockFile } from './lockfile.js';
import { ParamsReader } from './params-values.js';
import { readSnapshot, writeSnapshot } from './snapshot.js';
import { Workspace, type PipelineHost } from './workspace.js';

/** A workspace from a full parse and validation of the pipeline file (the only way before a write). */
export async function openFull(host: PipelineHost, file: string | undefined): Promise<Workspace> {
  const [{ loadPipeline }, { readLockFile }, { readYamlFile, ReadRecorder }] = await Promise.all([
    import('./load.js'),
    import('./lockfile-read.js'),
    import('../core/yaml.js'),
  ]);
  const reads = new ReadRecorder();
  const pipeline = loadPipeline(host.root, file, reads);
  const params = new ParamsReader((rel) => readYamlFile(join(pipeline.root, rel), reads).value);
  return new Workspace(pipeline, readLockFile(pipeline.lockFile, reads), params, host, reads);
}

/** A workspace from the last full run's snapshot, when nothing it was parsed from has changed. */
export function openSnapshot(host: PipelineHost, file: string | undefined): Workspace | undefined {
  const snapshot = readSnapshot(host.mlopsDir, file);
  if (!snapshot) return undefined;
  const { pipeline, lock, params } = snapshot;
  const load = (rel: string) => {
    if (!(rel in params)) throw new SnapshotMiss();
    return params[rel];
  };
  return new Workspace(pipeline, new LockFile(pipeline.lockFile, { ...lock }), new ParamsReader(load), host);
}

/** The snapshot did not cover something the run needs: start again from a full parse. */
export class SnapshotMiss extends Error {}

/** Records what a full run parsed, once its lock writes are on disk. */
export async function saveSnapshot(file: string | undefined, ws: Workspace): Promise<void> {
  if (!ws.reads) return; // it came from the snapshot, which is still valid
  await ws.lock.flushed();
  const { pathSignature } = await import('../core/signature.js');
  const sources = ws.reads.signatures();
  // A run that wrote the lock (under the repo lock) knows its version now is the one in memory.
  if (ws.lock.written) sources.set(ws.pipeline.lockFile, pathSignature(ws.pipeline.lockFile));
  await writeSnapshot(ws.mlopsDir, file, { pipeline: ws.pipeline, lock: Object.fromEntries(ws.lock.entries()), params: Object.fromEntries(ws.params.files) }, sources);
}
