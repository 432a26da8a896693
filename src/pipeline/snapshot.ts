import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { pathSignature } from '../core/signature.js';
import type { LockEntry } from './lockfile.js';
import type { Pipeline } from './model.js';

// A no-op run spent most of its time importing and running the YAML parser. The snapshot keeps what
// the last full run parsed (the expanded pipeline, the lock, the params files' contents) with the
// signature of every file it came from, and of every folder walked to find the pipeline files (a new
// file changes its folder's signature); while none of them changed, a run starts from it instead.

const VERSION = 2;

export interface Snapshot {
  readonly pipelines: readonly Pipeline[];
  /** Pipeline file (root-relative) -> its lock file's stages. */
  readonly locks: Record<string, Record<string, LockEntry>>;
  readonly params: Record<string, unknown>;
}

interface SnapshotFile extends Snapshot {
  readonly version: number;
  /** The pipeline file as asked for (`--file`, absolute), '' for the whole project. */
  readonly requested: string;
  /** Absolute path -> signature (or 'absent') of every file and folder the snapshot was derived from. */
  readonly sources: Record<string, string>;
}

const snapshotFile = (mlopsDir: string) => join(mlopsDir, 'snapshot.json');

/** The snapshot, when it was made for this pipeline file and none of its sources changed since. */
export function readSnapshot(mlopsDir: string, requested: string | undefined): Snapshot | undefined {
  const path = snapshotFile(mlopsDir);
  if (!existsSync(path)) return undefined;
  let file: SnapshotFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as SnapshotFile;
  } catch {
    return undefined;
  }
  if (file.version !== VERSION || file.requested !== (requested ?? '')) return undefined;
  for (const [source, signature] of Object.entries(file.sources)) if (pathSignature(source) !== signature) return undefined;
  return { pipelines: file.pipelines, locks: file.locks, params: file.params };
}

export async function writeSnapshot(
  mlopsDir: string,
  requested: string | undefined,
  snapshot: Snapshot,
  sources: ReadonlyMap<string, string>,
): Promise<void> {
  const file: SnapshotFile = { version: VERSION, requested: requested ?? '', sources: Object.fromEntries(sources), ...snapshot };
  await writeFileAtomic(snapshotFile(mlopsDir), JSON.stringify(file));
}
