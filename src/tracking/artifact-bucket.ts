import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { NotFoundError } from '../core/errors.js';
import { checkArtifactPath } from './artifact-objects.js';
import type { ArtifactFile } from './store.js';

// A database store's artifacts in an object store, as `mlflow server --default-artifact-root
// s3://bucket/prefix` keeps them: a run's artifacts under `<prefix>/<experiment id>/<run id>/artifacts/`,
// the run's artifact_uri that location's s3:// URI, so MLflow finds them there too. The bucket is the
// remote-storage S3 client (src/remote/s3.ts), with the settings of the remote on the same bucket.

/** What is needed of the object store: src/remote/s3.ts's S3RemoteStore. */
export interface ArtifactBucket {
  /** `s3://bucket/prefix`, without a trailing slash. */
  readonly location: string;
  put(key: string, file: string, size: number): Promise<void>;
  /** Writes the object into `dest` (a fresh path); ObjectMissingError (a FailureError) when there is none. */
  get(key: string, dest: string): Promise<string>;
  listSized(prefix: string): AsyncIterable<{ key: string; size: number }>;
  exists(key: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The bucket key of a run's artifacts folder (ending in `/`), or undefined when its URI lies elsewhere. */
export function runPrefix(bucket: ArtifactBucket, artifactUri: string): string | undefined {
  const root = `${bucket.location}/`;
  if (!artifactUri.startsWith(root)) return undefined;
  const rest = artifactUri.slice(root.length).replace(/\/+$/, '');
  const normal = posix.normalize(rest);
  return normal === rest && rest !== '' && !normal.startsWith('..') ? `${rest}/` : undefined;
}

/** Uploads a file, or a folder's files, to `<prefix><artifactPath>/<name>`. */
export async function uploadArtifact(bucket: ArtifactBucket, prefix: string, localPath: string, artifactPath: string): Promise<void> {
  const upload = async (file: string, key: string): Promise<void> => {
    const stat = statSync(file);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(file).sort()) await upload(join(file, entry), `${key}/${entry}`);
      return;
    }
    await bucket.put(key, file, stat.size);
  };
  await upload(localPath, prefix + posix.join(checkArtifactPath(artifactPath), basename(localPath)));
}

/** Every object below the run's prefix, as artifact paths, sorted as the folder stores list them. */
export async function listBucketArtifacts(bucket: ArtifactBucket, prefix: string): Promise<ArtifactFile[]> {
  const out: ArtifactFile[] = [];
  for await (const { key, size } of bucket.listSized(prefix)) out.push({ path: key.slice(prefix.length), size });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Downloads one artifact to `localPath`, through a temp file renamed into place. */
export async function downloadBucketArtifact(bucket: ArtifactBucket, runId: string, prefix: string, path: string, localPath: string): Promise<void> {
  const target = checkArtifactPath(path);
  if (target === '' || !(await bucket.exists(prefix + target))) throw new NotFoundError(`run ${runId} has no artifact '${path}'`);
  await mkdir(dirname(localPath), { recursive: true });
  const temp = `${localPath}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await bucket.get(prefix + target, temp);
    await rename(temp, localPath);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
