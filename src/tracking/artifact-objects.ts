import { existsSync, lstatSync, statSync } from 'node:fs';
import { chmod, copyFile, link, mkdir, readdir } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { md5File } from '../cache/hash.js';
import { writeAtomically } from '../core/atomic.js';
import { NotFoundError, UsageError } from '../core/errors.js';

// Artifacts stored once per content. MLflow reads a run's artifacts/ as plain files, so each artifact
// stays a real file there, but a hard link to one object `<objects>/<md5[:2]>/<md5[2:]>` (the project's
// .mlops/artifacts, outside mlruns/ so that mlruns/ keeps MLflow's exact layout): a model logged by 50
// train runs with the same result takes the space of one, and copying or archiving mlruns/ alone still
// copies real files. Objects are read-only, so no one edits 50 runs' artifacts through one of them.
// Where a hard link is impossible (another filesystem, no links) the file is copied.

/** Puts a file, or a folder's files, at `target` (inside a run's artifacts) through the object store. */
export async function storeArtifact(objectsDir: string | undefined, source: string, target: string): Promise<void> {
  const stat = statSync(source);
  if (stat.isDirectory()) {
    for (const entry of await readdir(source)) await storeArtifact(objectsDir, join(source, entry), join(target, entry));
    return;
  }
  if (!objectsDir) return writeAtomically(target, (temp) => copyFile(source, temp));
  const md5 = await md5File(source, stat.size);
  const object = join(objectsDir, md5.slice(0, 2), md5.slice(2));
  if (!existsSync(object)) await writeAtomically(object, (temp) => copyFile(source, temp).then(() => chmod(temp, 0o444)));
  // Renamed over the target: an artifact logged before under the same name is replaced atomically.
  await writeAtomically(target, async (temp) => {
    try {
      await link(object, temp);
    } catch (error) {
      if (!NO_LINK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      await copyFile(source, temp);
    }
  });
}

const NO_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);

/** An artifact path as a `/`-separated path inside a run's artifacts ('' for their top); one leading out is refused. */
export function checkArtifactPath(path: string): string {
  const target = posix.normalize(path.replace(/\\/g, '/'));
  if (target.startsWith('..') || target.startsWith('/')) throw new UsageError(`artifact path '${path}' must stay inside the run's artifacts`);
  return target === '.' ? '' : target;
}

/** Copies the artifact at `path` inside the run's artifact folder `artifactsDir` to `localPath`. */
export async function copyArtifactOut(runId: string, artifactsDir: string, path: string, localPath: string): Promise<void> {
  const source = join(artifactsDir, checkArtifactPath(path));
  // A real file only: a symlink in the artifacts must not read what lies outside them.
  if (!lstatSync(source, { throwIfNoEntry: false })?.isFile()) throw new NotFoundError(`run ${runId} has no artifact '${path}'`);
  await mkdir(dirname(localPath), { recursive: true });
  await copyFile(source, localPath);
}
