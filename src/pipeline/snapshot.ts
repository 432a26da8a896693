import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { pathSignature, UNSETTLED } from '../core/signature.js';
import type { LockEntry } from './lockfile.js';
import type { Pipeline } from './model.js';

// A no-op run spent most of its time importing and running the YAML parser. The snapshot keeps what
// the last full run parsed (the expanded pipeline, the lock, the params files' contents) with the
// signature of every file it came from, and of every folder walked to find the pipeline files (a new
// file changes its folder's signature); while none of them changed, a run starts from it instead.

const VERSION = 3;

export interface Snapshot {
  readonly pipelines: readonly Pipeline[];
  /** Pipeline file (root-relative) -> its lock file's stages. */
  readonly locks: Record<string, Record<string, LockEntry>>;
  readonly params: Record<string, unknown>;
}

// Every path in the file is relative to the root, and the root it was taken under is recorded: a copy
// of the project (cp -a, a backup, a CI cache) must never answer from the original's files.
interface SnapshotFile extends Snapshot {
  readonly version: number;
  /** The absolute root the snapshot was taken under; under any other root it is not used. */
  readonly root: string;
  /** The pipeline file as asked for (`--file`, relative to the root), '' for the whole project. */
  readonly requested: string;
  /** Path relative to the root -> signature (or 'absent') of every file and folder the snapshot was derived from. */
  readonly sources: Record<string, string>;
}

const snapshotFile = (mlopsDir: string) => join(mlopsDir, 'snapshot.json');
/** The project root: `.mlops/` always sits there. */
const rootOf = (mlopsDir: string) => dirname(mlopsDir);

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
  const root = rootOf(mlopsDir);
  const asked = requested === undefined ? '' : relative(root, requested);
  if (file.version !== VERSION || file.root !== root || file.requested !== asked) return undefined;
  for (const [source, signature] of Object.entries(file.sources)) {
    if (signature === UNSETTLED || isAbsolute(source) || pathSignature(join(root, source)) !== signature) return undefined;
  }
  const pipelines = file.pipelines.map((p) => ({ ...p, root, file: join(root, p.file), lockFile: join(root, p.lockFile) }));
  return { pipelines, locks: file.locks, params: file.params };
}

export async function writeSnapshot(
  mlopsDir: string,
  requested: string | undefined,
  snapshot: Snapshot,
  sources: ReadonlyMap<string, string>,
): Promise<void> {
  const root = rootOf(mlopsDir);
  const rel = (path: string) => relative(root, path);
  const file: SnapshotFile = {
    ...snapshot,
    version: VERSION,
    root,
    requested: requested === undefined ? '' : rel(requested),
    sources: Object.fromEntries([...sources].map(([path, signature]) => [rel(path), signature])),
    pipelines: snapshot.pipelines.map((p) => ({ ...p, root: '.', file: rel(p.file), lockFile: rel(p.lockFile) })),
  };
  await writeFileAtomic(snapshotFile(mlopsDir), JSON.stringify(file));
}
