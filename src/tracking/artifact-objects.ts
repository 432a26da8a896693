import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { chmod, copyFile, link, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

// Artifacts stored once per content. MLflow reads a run's artifacts/ as plain files, so each artifact
// stays a real file there, but a hard link to one object `<objects>/<md5[:2]>/<md5[2:]>` (the project's
// .mlops/artifacts, outside mlruns/ so that mlruns/ keeps MLflow's exact layout): a model logged by 50
// train runs with the same result takes the space of one, and copying or archiving mlruns/ alone still
// copies real files. Objects are read-only, so no one edits 50 runs' artifacts through one of them.
// Where a hard link is impossible (another filesystem, no links) the file is copied.

async function md5Of(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Puts a file, or a folder's files, at `target` (inside a run's artifacts) through the object store. */
export async function storeArtifact(objectsDir: string | undefined, source: string, target: string): Promise<void> {
  if (statSync(source).isDirectory()) {
    for (const entry of await readdir(source)) await storeArtifact(objectsDir, join(source, entry), join(target, entry));
    return;
  }
  if (!objectsDir) return placeAtomically(target, (temp) => copyFile(source, temp));
  const md5 = await md5Of(source);
  const object = join(objectsDir, md5.slice(0, 2), md5.slice(2));
  if (!existsSync(object)) await placeAtomically(object, (temp) => copyFile(source, temp).then(() => chmod(temp, 0o444)));
  // Renamed over the target: an artifact logged before under the same name is replaced atomically.
  await placeAtomically(target, async (temp) => {
    try {
      await link(object, temp);
    } catch (error) {
      if (!NO_LINK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      await copyFile(source, temp);
    }
  });
}

const NO_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);

async function placeAtomically(path: string, write: (temp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await write(temp);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
