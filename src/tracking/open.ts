import { join } from 'node:path';
import { trackingConfig, type TrackingConfig } from './config.js';
import { FileStore } from './file-store.js';

/** The store for a project (the folder store; a SQL store would be chosen here by URI scheme). */
export function openStore(root: string): { store: FileStore; config: TrackingConfig } {
  const config = trackingConfig(root);
  return { store: new FileStore(config.dir, join(root, '.mlops', 'artifacts')), config };
}
