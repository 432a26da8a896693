import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { addressed } from './address.js';
import { LockFile, Locks, type LockEntry } from './lockfile.js';
import { ParamsReader } from './params-values.js';
import { readSnapshot, writeSnapshot } from './snapshot.js';
import { Workspace, type PipelineHost } from './workspace.js';

/** Which pipelines a command opens: every one under the root, or only `file`; names relative to `cwd`. */
export interface OpenRequest {
  readonly cwd: string;
  /** Absolute path of the only pipeline file to read (`--file`). */
  readonly file?: string;
}

/** A workspace from a full parse and validation of the pipeline files (the only way before a write). */
export async function openFull(host: PipelineHost, request: OpenRequest): Promise<{ ws: Workspace; walked: readonly string[] }> {
  const [{ loadProject }, { readLockFile }, { readYamlFile, ReadRecorder }] = await Promise.all([
    import('./load.js'),
    import('./lockfile-read.js'),
    import('../core/yaml.js'),
  ]);
  const reads = new ReadRecorder();
  const tracking = await host.trackingFolder?.();
  const { pipelines, walked } = loadProject(host.root, request.cwd, { file: request.file, owned: tracking ? [tracking] : [] }, reads);
  const locks = new Locks(new Map(pipelines.map((p) => [p.fileRel, readLockFile(p.lockFile, reads)])));
  const params = new ParamsReader((rel) => {
    const abs = join(host.root, rel);
    return existsSync(abs) ? readYamlFile(abs, reads).value : undefined;
  });
  return { ws: new Workspace(pipelines, locks, params, host, reads), walked };
}

/** A workspace from the last full run's snapshot, when nothing it was parsed from has changed. */
export function openSnapshot(host: PipelineHost, request: OpenRequest): Workspace | undefined {
  const snapshot = readSnapshot(host.mlopsDir, request.file);
  if (!snapshot) return undefined;
  const { locks, params } = snapshot;
  const own = request.file === undefined ? undefined : snapshot.pipelines[0]?.fileRel;
  const pipelines = addressed(snapshot.pipelines, host.root, request.cwd, own);
  const load = (rel: string) => {
    if (!(rel in params)) throw new SnapshotMiss();
    return params[rel] ?? undefined; // JSON keeps a missing file as null
  };
  const lockFiles = new Locks(new Map(pipelines.map((p) => [p.fileRel, new LockFile(p.lockFile, { ...locks[p.fileRel] })])));
  return new Workspace(pipelines, lockFiles, new ParamsReader(load), host);
}

/** The snapshot did not cover something the run needs: start again from a full parse. */
export class SnapshotMiss extends Error {}

/** Records what a full run parsed, once its lock writes are on disk. */
export async function saveSnapshot(request: OpenRequest, ws: Workspace, walked: readonly string[]): Promise<void> {
  if (!ws.reads) return; // it came from the snapshot, which is still valid
  await ws.lock.flushed();
  const { pathSignature } = await import('../core/signature.js');
  const sources = ws.reads.signatures();
  for (const dir of walked) sources.set(dir, pathSignature(dir));
  const locks: Record<string, Record<string, LockEntry>> = {};
  for (const [file, lock] of ws.lock.byFile()) {
    // A run that wrote the lock (under the repo lock) knows its version now is the one in memory.
    if (lock.written) sources.set(lock.path, pathSignature(lock.path));
    locks[file] = Object.fromEntries(lock.entries());
  }
  const params = Object.fromEntries([...ws.params.files].map(([rel, value]) => [rel, value ?? null]));
  await writeSnapshot(ws.mlopsDir, request.file, { pipelines: ws.pipelines, locks, params }, sources);
}
