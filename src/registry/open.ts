import { LocalObjectStore } from '../cache/odb.js';
import type { Project } from '../project/project.js';
import { StoreRegistry, type StoreContext, type StoreLocation } from '../project/stores.js';
import { FileModelRegistry } from './file-store.js';
import type { ModelRegistry } from './store.js';

/** A project's registry and the object store holding its versions' files (the pipeline cache). */
export interface OpenRegistry {
  readonly registry: ModelRegistry;
  /** Local: serving reads a version's files in place. */
  readonly objects: LocalObjectStore;
}

/** The registry stores this build can open, by URI scheme; a SQL store is one more opener. */
export const REGISTRY_STORES = new StoreRegistry<ModelRegistry>('model registry', {
  file: (location) => new FileModelRegistry(location.path),
  sqlite: openSqlRegistry,
  postgresql: openSqlRegistry,
  postgres: openSqlRegistry,
});

/** MLflow's registry tables in the tracking database; the SQL code is loaded only for such a URI. */
async function openSqlRegistry(location: StoreLocation, root: string, context: StoreContext): Promise<ModelRegistry> {
  const [{ openMlflowDatabase }, { SqlModelRegistry }] = await Promise.all([import('../sql/open.js'), import('./sql-store.js')]);
  return new SqlModelRegistry(await openMlflowDatabase(location.uri, { root, notice: context.notice }), root);
}

/**
 * The project's registry. As MLflow's registry URI defaults to its tracking URI, the registry lives
 * where the runs do (`mlruns/models/`), opened through the same kind of store registry.
 */
export async function openRegistry(project: Project, stores = REGISTRY_STORES): Promise<OpenRegistry> {
  const { uri } = await project.tracking();
  const objects = project.cache;
  // Project.cache is always local today; a remote-only cache would need versions copied out first.
  if (!(objects instanceof LocalObjectStore)) throw new Error('the model registry needs a local cache');
  return { registry: await stores.open(uri, project.root), objects };
}
