import { join } from 'node:path';
import { ObjectStore } from '../cache/odb.js';
import { StateStore } from '../cache/state.js';
import { hashPath, type Hashed } from '../cache/tree.js';
import type { LockFile } from './lockfile.js';
import type { Pipeline } from './model.js';
import type { ParamsReader } from './params-values.js';

export const MLOPS_DIR = '.mlops';

/** Everything a command needs to look at a pipeline's files: hashes, cache, lock and params. */
export class Workspace {
  readonly mlopsDir: string;
  readonly state: StateStore;
  readonly odb: ObjectStore;

  constructor(
    readonly pipeline: Pipeline,
    readonly lock: LockFile,
    readonly params: ParamsReader,
  ) {
    this.mlopsDir = join(pipeline.root, MLOPS_DIR);
    this.state = StateStore.load(this.mlopsDir);
    this.odb = new ObjectStore(join(this.mlopsDir, 'cache'));
  }

  abs(rel: string): string {
    return join(this.pipeline.root, rel);
  }

  /** Hash of a path for comparison with the lock; `forStorage` also lists a directory's files. */
  hash(rel: string, { forStorage = false } = {}): Promise<Hashed | null> {
    return hashPath(this.abs(rel), this.state, { entries: forStorage });
  }
}
