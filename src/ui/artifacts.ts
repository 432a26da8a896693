import { realpathSync } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFoundError, UsageError } from '../core/errors.js';
import type { TrackingStore } from '../tracking/store.js';

// A run's artifacts as the page browses them: MLflow's artifact_uri when it is a local folder
// (file: URI or a path), else through the store (a database store's S3 artifact root). Every path a request names is resolved, symlinks included, and must stay
// inside that folder: `../../.ssh/id_rsa` or a link out of it is a 404, never a read.

export interface ArtifactEntry {
  path: string;
  size: number;
}

/** How the page previews a file, by its extension. */
export type PreviewKind = 'json' | 'csv' | 'image' | 'text' | 'binary';

const IMAGE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp' };
const TEXT = new Set(['.txt', '.log', '.md', '.yaml', '.yml', '.py', '.ts', '.js', '.sh', '.toml', '.ini', '.cfg', '.html', '.xml', '.tsv', '']);
/** Previews read at most this much: a 2 GB model file is listed, not shipped to the browser. */
export const PREVIEW_BYTES = 1 << 20;
const MAX_LISTED = 5000;

export function previewKind(path: string): PreviewKind {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.csv') return 'csv';
  if (IMAGE_TYPES[ext]) return 'image';
  if (TEXT.has(ext) || path.endsWith('MLmodel')) return 'text';
  return 'binary';
}

export const imageType = (path: string) => IMAGE_TYPES[extname(path).toLowerCase()];

/** The local folder of an artifact URI, or undefined when it is not on this machine (s3:, http:). */
export function artifactRoot(uri: string): string | undefined {
  if (uri.startsWith('file:')) return fileURLToPath(uri);
  return /^[a-z][a-z0-9+.-]*:/i.test(uri) && !/^[a-z]:[\\/]/i.test(uri) ? undefined : uri;
}

/** Every file under the run's artifact folder (relative, '/'-separated), largest listings cut. */
export async function listArtifacts(root: string): Promise<ArtifactEntry[]> {
  const out: ArtifactEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= MAX_LISTED) return;
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.push({ path: relative(root, full).split(sep).join('/'), size: (await stat(full)).size });
    }
  };
  await walk(root);
  return out;
}

/** The real path of `rel` inside `root`; NotFoundError for anything outside it or missing. */
export function containedPath(root: string, rel: string): string {
  if (!rel || rel.includes('\0')) throw new UsageError('artifact path missing');
  let realRoot: string;
  let real: string;
  try {
    realRoot = realpathSync(root);
    real = realpathSync(join(realRoot, rel));
  } catch {
    throw new NotFoundError(`artifact '${rel}' not found`);
  }
  if (real !== realRoot && !real.startsWith(realRoot + sep)) throw new NotFoundError(`artifact '${rel}' not found`);
  return real;
}

/** The first `PREVIEW_BYTES` of a file inside `root`, and whether it was cut. */
export async function readArtifact(root: string, rel: string, limit = PREVIEW_BYTES): Promise<{ data: Buffer; truncated: boolean; size: number }> {
  const file = containedPath(root, rel);
  const handle = await open(file, 'r');
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new NotFoundError(`artifact '${rel}' not found`);
    const { size } = info;
    const data = Buffer.alloc(Math.min(size, limit));
    const { bytesRead } = await handle.read(data, 0, data.length, 0);
    return { data: data.subarray(0, bytesRead), truncated: size > limit, size };
  } finally {
    await handle.close();
  }
}

/** readArtifact for an artifact the store keeps elsewhere (S3): fetched whole into a temp folder, then read. */
export async function readStoreArtifact(store: TrackingStore, runId: string, rel: string, limit = PREVIEW_BYTES): Promise<{ data: Buffer; truncated: boolean; size: number }> {
  if (!rel || rel.includes('\0')) throw new UsageError('artifact path missing');
  const dir = await mkdtemp(join(tmpdir(), 'mlops-artifact-'));
  try {
    await store.downloadArtifact(runId, rel, join(dir, 'file'));
    return await readArtifact(dir, 'file', limit);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
