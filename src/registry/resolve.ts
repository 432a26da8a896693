import { MODEL_FILE, TRANSFORM_FILE, verifiedFiles } from './content.js';
import { findVersion } from './lifecycle.js';
import { parseModelUri } from './names.js';
import { openRegistry } from './open.js';
import type { ModelVersion } from './store.js';

/** A model argument resolved to files: a path as given, or a registered version's verified objects. */
export interface ResolvedModel {
  readonly model: string;
  /** Undefined for a plain path: the caller's default (transform.json beside the model) applies. */
  readonly transform?: string;
  readonly version?: ModelVersion;
}

/**
 * The one place a model argument is read: `models:/NAME@ALIAS`, `models:/NAME/VERSION`,
 * `models:/NAME/latest`, or a path. A registered version is re-hashed before use, so a damaged one is
 * reported, never used.
 */
export async function resolveModel(root: string, arg: string): Promise<ResolvedModel> {
  const uri = parseModelUri(arg);
  if (!uri) return { model: arg };
  const { registry, objects } = openRegistry(root);
  const version = await findVersion(registry, uri.name, uri.ref);
  const files = await verifiedFiles(objects, version);
  return { model: files[MODEL_FILE]!, transform: files[TRANSFORM_FILE]!, version };
}
