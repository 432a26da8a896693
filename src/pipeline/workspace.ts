import { join } from 'node:path';
import type { ObjectStore } from '../cache/odb.js';
import { StateStore } from '../cache/state.js';
import { hashPath, type Hashed } from '../cache/tree.js';
import type { ReadRecorder } from '../core/yaml.js';
import type { LockFile } from './lockfile.js';
import type { Pipeline } from './model.js';
import type { ParamsReader } from './params-values.js';

/** What the pipeline engine takes from the project it runs in (a Project, or a test's own). */
export interface PipelineHost {
  readonly root: string;
  /** The project's `.mlops/` folder: state, snapshot, repo lock. */
  readonly mlopsDir: string;
  readonly cache: ObjectStore;
  readonly runCacheDir: string;
  /** The tool whose cache this is, when it is shared (DVC's): only that tool knows every object it needs. */
  readonly cacheOwner?: string;
  /** Creates `.mlops/` (with its .gitignore) before the first write into it. */
  ensureMlopsDir(): void;
}

/** Everything a command needs to look at a pipeline's files: hashes, cache, lock and params. */
export class Workspace {
  readonly mlopsDir: string;
  readonly state: StateStore;
  readonly odb: ObjectStore;
  readonly runCacheDir: string;

  constructor(
    readonly pipeline: Pipeline,
    readonly lock: LockFile,
    readonly params: ParamsReader,
    host: PipelineHost,
    /** The files this workspace was parsed from (none when it came from the snapshot). */
    readonly reads?: ReadRecorder,
  ) {
    this.mlopsDir = host.mlopsDir;
    this.state = StateStore.load(this.mlopsDir);
    this.odb = host.cache;
    this.runCacheDir = host.runCacheDir;
  }

  abs(rel: string): string {
    return join(this.pipeline.root, rel);
  }

  /** Hash of a path for comparison with the lock; `forStorage` also lists a directory's files. */
  hash(rel: string, { forStorage = false } = {}): Promise<Hashed | null> {
    return hashPath(this.abs(rel), this.state, { entries: forStorage });
  }
}
