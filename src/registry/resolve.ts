import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { insideOf } from '../core/files.js';
import { md5File } from '../cache/hash.js';
import { ConfigError, UsageError } from '../core/errors.js';
import { resolveModelArgument } from '../ml/paths.js';
import { MODEL_FILE, TRANSFORM_FILE, verifiedFiles } from './content.js';
import { findVersion } from './lifecycle.js';
import { parseModelUri } from './names.js';
import type { Project } from '../project/project.js';
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
 * `models:/NAME/latest`, or a path (or nothing: the example's model; see resolveModelArgument). A registered version is re-hashed before use, so a damaged one is
 * reported, never used.
 */
export async function resolveModel(project: Project, arg: string | undefined): Promise<ResolvedModel> {
  const uri = arg === undefined ? undefined : parseModelUri(arg);
  if (!uri) return { model: resolveModelArgument(arg, { root: project.root, cwd: project.cwd }) };
  const { registry, objects } = await openRegistry(project);
  const version = await findVersion(registry, uri.name, uri.ref);
  const files = await verifiedFiles(objects, version);
  return { model: files[MODEL_FILE]!, transform: files[TRANSFORM_FILE]!, version };
}

/**
 * `--reference models:/...` for drift: the raw training data the version recorded at registration,
 * checked against its recorded md5 (a reference that changed since would compare against the wrong data).
 */
export async function referenceData(project: Project, arg: string): Promise<string> {
  const uri = parseModelUri(arg);
  if (!uri) return arg;
  const { root } = project;
  const { registry } = await openRegistry(project);
  const version = await findVersion(registry, uri.name, uri.ref);
  const raw = version.lineage.raw_data;
  if (!raw) throw new UsageError(`${arg}: version ${version.version} recorded no raw training data (prepare.input) at registration`);
  const path = resolve(root, raw.path);
  // The path comes from a registry file: it must not lead outside the project.
  if (insideOf(root, path) === undefined) throw new ConfigError(`raw data path ${JSON.stringify(raw.path)} is outside the project`, { key: 'lineage.raw_data.path' });
  if (!existsSync(path) || (await md5File(path)) !== raw.md5) {
    throw new UsageError(`${arg}: ${raw.path} is not the data version ${version.version} was trained on (md5 ${raw.md5}); restore it (mlops checkout) first`);
  }
  return path;
}
