import { join } from 'node:path';
import { LockFile } from './lockfile.js';
import { ParamsReader } from './params-values.js';
import { readSnapshot, writeSnapshot } from './snapshot.js';
import { Workspace } from './workspace.js';

/** A workspace from a full parse and validation of the pipeline file (the only way before a write). */
export async function openFull(root: string, file: string | undefined): Promise<Workspace> {
  const [{ loadPipeline }, { readLockFile }, { readYamlFile }] = await Promise.all([
    import('./load.js'),
    import('./lockfile-read.js'),
    import('../core/yaml.js'),
  ]);
  const pipeline = loadPipeline(root, file);
  return new Workspace(pipeline, readLockFile(pipeline.lockFile), new ParamsReader((rel) => readYamlFile(join(pipeline.root, rel)).value));
}

/** A workspace from the last full run's snapshot, when nothing it was parsed from has changed. */
export function openSnapshot(root: string, file: string | undefined): Workspace | undefined {
  const snapshot = readSnapshot(root, file);
  if (!snapshot) return undefined;
  const { pipeline, lock, params } = snapshot;
  const load = (rel: string) => {
    if (!(rel in params)) throw new SnapshotMiss();
    return params[rel];
  };
  return new Workspace(pipeline, new LockFile(pipeline.lockFile, { ...lock }), new ParamsReader(load));
}

/** The snapshot did not cover something the run needs: start again from a full parse. */
export class SnapshotMiss extends Error {}

/** Records what a full run parsed, once its lock writes are on disk. */
export async function saveSnapshot(root: string, file: string | undefined, ws: Workspace): Promise<void> {
  await ws.lock.flushed();
  const { yamlReads } = await import('../core/yaml.js');
  const { pathSignature } = await import('../core/signature.js');
  const sources = new Map(yamlReads);
  // A run that wrote the lock (under the repo lock) knows its version now is the one in memory.
  if (ws.lock.written) sources.set(ws.pipeline.lockFile, pathSignature(ws.pipeline.lockFile));
  await writeSnapshot(root, file, { pipeline: ws.pipeline, lock: Object.fromEntries(ws.lock.entries()), params: Object.fromEntries(ws.params.files) }, sources);
}
