import { readdirSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { displayPath } from '../core/display.js';
import { MlopsError } from '../core/errors.js';
import { createHash } from 'node:crypto';
import { md5File, sameBytes } from './hash.js';
import type { StateStore } from './state.js';
import { DirStateReader, DirStateWriter } from './dir-state.js';
import { settled, statSignature, type FileStat } from '../core/signature.js';

/** The hash of a file, or of a directory through its manifest (DVC's `<md5>.dir`). */
export interface HashInfo {
  readonly md5: string;
  readonly size: number;
  /** Directories only. */
  readonly nfiles?: number;
}

export interface ManifestEntry {
  readonly md5: string;
  /** POSIX path relative to the directory. */
  readonly relpath: string;
  readonly size: number;
}

export interface Hashed {
  readonly info: HashInfo;
  /** For directories, the files in relpath order. */
  readonly entries?: readonly ManifestEntry[];
}

export const isDirHash = (md5: string) => md5.endsWith('.dir');

// Enough reads in flight to hide per-file latency without thrashing two cores.
const PARALLEL_READS = 8;

/** A file known to hash to `md5` (a cache object verified by this process), which the one hashed may copy. */
export interface KnownCopy {
  readonly md5: string;
  readonly path: string;
}

/**
 * Hashes `abs` (a file or a directory), reusing state-store hashes; null when it does not exist.
 * With `entries: false` an unchanged directory is answered from its state file alone (no reads) and the
 * result carries no entries (enough to compare with a lock file); storing a directory needs them.
 * A file that the state does not know and that holds `copyOf`'s bytes takes its md5 without being hashed.
 */
export async function hashPath(abs: string, state: StateStore, { entries = true, copyOf }: { entries?: boolean; copyOf?: KnownCopy } = {}): Promise<Hashed | null> {
  const seenAt = Date.now(); // before any stat: see core/signature's `settled`
  let stat: Stats;
  try {
    stat = statSync(abs);
  } catch {
    return null;
  }
  if (!stat.isDirectory()) {
    const signature = statSignature(stat);
    const known = state.lookupRoot(abs, signature);
    if (known) return { info: known };
    const same = copyOf !== undefined && (await sameBytes(abs, copyOf.path));
    const info = { md5: same ? copyOf.md5 : await md5File(abs, stat.size), size: stat.size };
    state.recordRoot(abs, signature, info, settled(stat, seenAt));
    return { info };
  }

  const statePath = state.dirStatePath(abs);
  if (!entries) {
    const known = unchanged(abs, statePath);
    if (known) return { info: known };
  }
  return hashDirectory(abs, statePath, entries, seenAt);
}

/** The directory's recorded hash when every file below it is listed, in order, with the same stat. */
function unchanged(abs: string, statePath: string): HashInfo | undefined {
  const recorded = DirStateReader.open(statePath);
  try {
    for (const f of walkFiles(abs)) {
      const line = recorded.next();
      if (!line || !line.md5 || line.rel !== f.rel || line.signature !== statSignature(f.stat)) return undefined;
    }
    return recorded.next() === undefined ? recorded.info : undefined;
  } finally {
    recorded.close();
  }
}

// Files hashed as one batch: their reads overlap, and memory holds one batch, not the whole folder.
const BATCH = 1024;

/**
 * Hashes every file below `abs` in manifest order, reading only those whose stat differs from the
 * recorded one, and streams the manifest's digest and the new state file as it goes.
 */
async function hashDirectory(abs: string, statePath: string, keepEntries: boolean, seenAt: number): Promise<Hashed> {
  const recorded = DirStateReader.open(statePath);
  const writer = DirStateWriter.create(statePath);
  const digest = createHash('md5');
  const list: ManifestEntry[] = [];
  let size = 0;
  let nfiles = 0;
  let allSettled = true;
  let line = recorded.next();
  const finishBatch = async (batch: { f: Listed; md5?: string }[]) => {
    await parallel(batch.filter((b) => b.md5 === undefined), async (b) => (b.md5 = await md5File(b.f.abs, b.f.stat.size)));
    for (const { f, md5 } of batch) {
      const entry = { md5: md5!, relpath: f.rel, size: f.stat.size };
      digest.update(`${nfiles === 0 ? '[' : ', '}${manifestItem(entry)}`);
      const isSettled = settled(f.stat, seenAt);
      allSettled &&= isSettled;
      writer?.add({ rel: f.rel, signature: statSignature(f.stat), md5: isSettled ? md5! : '' });
      if (keepEntries) list.push(entry);
      size += f.stat.size;
      nfiles++;
    }
  };
  try {
    let batch: { f: Listed; md5?: string }[] = [];
    for (const f of walkFiles(abs)) {
      while (line && line.rel < f.rel) line = recorded.next();
      const known = line && line.rel === f.rel && line.md5 && line.signature === statSignature(f.stat) ? line.md5 : undefined;
      batch.push({ f, md5: known });
      if (batch.length === BATCH) {
        await finishBatch(batch);
        batch = [];
      }
    }
    await finishBatch(batch);
  } catch (error) {
    writer?.abort();
    throw error;
  } finally {
    recorded.close();
  }
  digest.update(nfiles === 0 ? '[]' : ']');
  const info = { md5: `${digest.digest('hex')}.dir`, size, nfiles };
  writer?.finish(allSettled ? info : undefined);
  return keepEntries ? { info, entries: list } : { info };
}

/** Runs `task` over `items`, PARALLEL_READS at a time. */
async function parallel<T>(items: readonly T[], task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, items.length) }, worker));
}

interface Listed {
  abs: string;
  rel: string;
  /** Only what identifies a version; full Stats objects (with four Dates each) are not kept alive. */
  stat: FileStat;
}

/** A symlink below a hashed folder that cannot be followed: dangling, or leading back into an ancestor. */
export class LinkError extends MlopsError {
  constructor(link: string, problem: string) {
    super(`${displayPath(link)}: ${problem}`, 'invalid');
  }
}

/**
 * Every file below `dir` in manifest order (sorted by POSIX relative path), one at a time. Links are
 * followed as DVC does (a link counts as what it points to), except a folder link into the folder
 * itself or an ancestor, which would loop. Each folder's entries are sorted with a folder's name
 * taken as `name/`, which walks the tree in exactly the order of its sorted relative paths.
 */
function* walkFiles(dir: string): Generator<Listed> {
  // Real paths of the folders walked through links so far (and the root): a link to any of them, or
  // to a folder holding one, would walk the same files again, forever.
  const chain: string[] = [realpathSync(dir)];
  function* walk(absDir: string, relDir: string): Generator<Listed> {
    const children: { key: string; abs: string; rel: string; stat?: Stats; link: boolean }[] = [];
    for (const entry of readdirSync(absDir, { withFileTypes: true })) {
      const abs = `${absDir}/${entry.name}`; // plain concatenation: path.join normalises on every call
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) children.push({ key: `${entry.name}/`, abs, rel, link: false });
      else if (entry.isFile() || entry.isSymbolicLink()) {
        const stat = entry.isFile() ? statSync(abs) : linkTarget(abs);
        children.push({ key: stat.isDirectory() ? `${entry.name}/` : entry.name, abs, rel, stat, link: entry.isSymbolicLink() });
      }
    }
    children.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const c of children) {
      if (!c.stat) yield* walk(c.abs, c.rel);
      else if (!c.stat.isDirectory()) yield { abs: c.abs, rel: c.rel, stat: { ino: c.stat.ino, mtimeMs: c.stat.mtimeMs, ctimeMs: c.stat.ctimeMs, size: c.stat.size } };
      else {
        const real = realpathSync(c.abs);
        const loops = [...chain, realpathSync(absDir)].some((d) => d === real || d.startsWith(`${real}/`));
        if (loops) throw new LinkError(c.abs, `a symlink to '${displayPath(real)}', a folder that contains it: following it would loop`);
        chain.push(real);
        yield* walk(c.abs, c.rel);
        chain.pop();
      }
    }
  }
  yield* walk(dir, '');
}

function linkTarget(link: string): Stats {
  try {
    return statSync(link);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') throw new LinkError(link, `a broken symlink (to '${readlinkSync(link)}')`);
    throw error;
  }
}

/** DVC's manifest text: Python's json.dumps of sorted `{md5, relpath}` entries (ASCII-escaped). */
export function manifestJson(entries: readonly Pick<ManifestEntry, 'md5' | 'relpath'>[]): string {
  return `[${entries.map(manifestItem).join(', ')}]`;
}

const manifestItem = (e: Pick<ManifestEntry, 'md5' | 'relpath'>) => `{"md5": ${pyString(e.md5)}, "relpath": ${pyString(e.relpath)}}`;

// Python's ensure_ascii escapes every code unit above 0x7f (astral characters as surrogate pairs).
const HAS_NON_ASCII = /[\u0080-\uffff]/;
const NON_ASCII = /[\u0080-\uffff]/g;

function pyString(s: string): string {
  const json = JSON.stringify(s);
  return HAS_NON_ASCII.test(json) ? json.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}
