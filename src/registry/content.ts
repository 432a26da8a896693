import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../core/atomic.js';
import { FailureError } from '../core/errors.js';
import { md5File, md5Text } from '../cache/hash.js';
import { manifestJson } from '../cache/tree.js';
import { CorruptObjectError, MissingObjectError, type LocalObjectStore } from '../cache/odb.js';
import type { Project } from '../project/project.js';
import { openRegistry } from './open.js';
import type { ModelVersion, VersionFiles } from './store.js';

// A version's files (model.json, transform.json) live content-addressed in the project's object store,
// the pipeline cache, so `push` can send them to a remote like any output. The version names them by
// md5 plus the md5 of their manifest (DVC's `.dir` form), which is the version's content id.

export const MODEL_FILE = 'model.json';
export const TRANSFORM_FILE = 'transform.json';
/** The raw training data, monitoring's drift reference (see register.ts); absent in older versions. */
export const REFERENCE_FILE = 'reference.csv';

/** Copies the files (name -> local path) into the store; returns their md5s and the content id. */
export async function storeFiles(objects: LocalObjectStore, paths: Record<string, string>): Promise<{ content: string; files: VersionFiles }> {
  const entries = [];
  for (const relpath of Object.keys(paths).sort()) {
    const md5 = await md5File(paths[relpath]!);
    await objects.add(paths[relpath]!, { info: { md5, size: 0 } });
    entries.push({ md5, relpath });
  }
  const manifest = manifestJson(entries);
  const content = `${md5Text(manifest)}.dir`;
  if (!existsSync(objects.pathOf(content))) await writeFileAtomic(objects.pathOf(content), manifest);
  return { content, files: Object.fromEntries(entries.map((e) => [e.relpath, e.md5])) };
}

/** A version whose objects are missing or no longer match their md5: never served or promoted. */
export class DamagedVersionError extends FailureError {
  constructor(version: ModelVersion, readonly detail: string) {
    super(`version ${version.version} of model ${JSON.stringify(version.name)} is damaged (${detail}); it is never served or promoted`);
  }
}

/** The paths of a version's files in the store, each re-hashed first. */
export async function verifiedFiles(objects: LocalObjectStore, version: ModelVersion): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, md5] of Object.entries(version.files)) {
    try {
      await objects.verify(md5);
    } catch (error) {
      if (error instanceof MissingObjectError) throw new DamagedVersionError(version, `${name} is missing from the cache`);
      if (error instanceof CorruptObjectError) throw new DamagedVersionError(version, `${name} no longer matches its md5 ${md5}`);
      throw error;
    }
    out[name] = objects.pathOf(md5);
  }
  return out;
}

/**
 * Every object the project's registered versions reference (files and manifests): `gc` keeps them, so
 * a registered model survives the pipeline moving on. Deleted versions keep nothing.
 */
export async function registeredObjects(project: Project): Promise<Set<string>> {
  const { registry } = await openRegistry(project);
  const keep = new Set<string>();
  for (const model of await registry.listModels()) {
    for (const v of await registry.listVersions(model.name)) for (const md5 of [v.content, ...Object.values(v.files)]) keep.add(md5);
  }
  return keep;
}
