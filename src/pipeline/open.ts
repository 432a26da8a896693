import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LockFile, Locks, type LockEntry } from './lockfile.js';
import { ParamsReader } from './params-values.js';
import { addressed } from './address.js';
import { readSnapshot, writeSnapshot } from './snapshot.js';
import { Workspace } from './workspace.js';

/** Which pipelines a command opens: every one under the root, or only `file`; names relative to `cwd`. */
export interface OpenRequest {
  readonly cwd: string;
  /** Absolute path of the only pipeline file to read (`--file`). */
  readonly file?: string;
}

/** A workspace from a full parse and validation of the pipeline files (the only way before a write). */
export async function openFull(root: string, request: OpenRequest): Promise<{ ws: Workspace; walked: readonly string[] }> {
  const [{ loadProject }, { readLockFile }, { readYamlFile }] = await Promise.all([
    import('./load.js'),
    import('./lockfile-read.js'),
    import('../core/yaml.js'),
  ]);
  const { pipelines, walked } = loadProject(root, request.cwd, { file: request.file });
  const locks = new Locks(new Map(pipelines.map((p) => [p.fileRel, readLockFile(p.lockFile)])));
  const params = new ParamsReader((rel) => {
    const abs = join(root, rel);
    return existsSync(abs) ? readYamlFile(abs).value : undefined;
  });
  return { ws: new Workspace(root, pipelines, locks, params), walked };
}

/** A workspace from the last full run's snapshot, when nothing it was parsed from has changed. */
export async function openSnapshot(root: string, request: OpenRequest): Promise<Workspace | undefined> {
  const snapshot = readSnapshot(root, request.file);
  if (!snapshot) return undefined;
  const { locks, params } = snapshot;
  const own = request.file === undefined ? undefined : snapshot.pipelines[0]?.fileRel;
  const pipelines = addressed(snapshot.pipelines, root, request.cwd, own);
  const load = (rel: string) => {
    if (!(rel in params)) throw new SnapshotMiss();
    return params[rel] ?? undefined; // JSON keeps a missing file as null
  };
  const lockFiles = new Locks(new Map(pipelines.map((p) => [p.fileRel, new LockFile(p.lockFile, { ...locks[p.fileRel] })])));
  return new Workspace(root, pipelines, lockFiles, new ParamsReader(load));
}

/** The snapshot did not cover something the run needs: start again from a full parse. */
export class SnapshotMiss extends Error {}

/** Records what a full run parsed, once its lock writes are on disk. */
export async function saveSnapshot(root: string, request: OpenRequest, ws: Workspace, walked: readonly string[]): Promise<void> {
  await ws.lock.flushed();
  const { yamlReads } = await import('../core/yaml.js');
  const { pathSignature } = await import('../core/signature.js');
  const sources = new Map(yamlReads);
  for (const dir of walked) sources.set(dir, pathSignature(dir));
  const locks: Record<string, Record<string, LockEntry>> = {};
  for (const [file, lock] of ws.lock.byFile()) {
    // A run that wrote the lock (under the repo lock) knows its version now is the one in memory.
    if (lock.written) sources.set(lock.path, pathSignature(lock.path));
    locks[file] = Object.fromEntries(lock.entries());
  }
  const params = Object.fromEntries([...ws.params.files].map(([rel, value]) => [rel, value ?? null]));
  await writeSnapshot(root, request.file, { pipelines: ws.pipelines, locks, params }, sources);
}
