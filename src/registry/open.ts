import { join } from 'node:path';
import { ObjectStore } from '../cache/odb.js';
import { MLOPS_DIR } from '../pipeline/workspace.js';
import { trackingConfig } from '../tracking/config.js';
import { FileModelRegistry } from './file-store.js';
import type { ModelRegistry } from './store.js';

/** A project's registry and the object store holding its versions' files (the pipeline cache's). */
export interface OpenRegistry {
  readonly registry: ModelRegistry;
  readonly objects: ObjectStore;
}

/**
 * The project's registry: the file store in the tracking folder (`mlruns/models/`), beside the runs, as
 * MLflow keeps it. The one place that chooses the store; a SQL store would be picked here by URI.
 */
export function openRegistry(root: string): OpenRegistry {
  return {
    registry: new FileModelRegistry(trackingConfig(root).dir),
    objects: new ObjectStore(join(root, MLOPS_DIR, 'cache')),
  };
}
