import { readdirSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { displayPath } from '../core/display.js';
import { MlopsError } from '../core/errors.js';
import { createHash } from 'node:crypto';
import { md5File, md5Text } from './hash.js';
import type { StateStore } from './state.js';
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

/**
 * Hashes `abs` (a file or a directory), reusing state-store hashes; null when it does not exist.
 * With `entries: false` an unchanged directory is answered from its listing signature alone and the
 * result carries no entries (enough to compare with a lock file); storing a directory needs them.
 */
export async function hashPath(abs: string, state: StateStore, { entries = true } = {}): Promise<Hashed | null> {
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
    const info = { md5: await md5File(abs, stat.size), size: stat.size };
    state.recordRoot(abs, signature, info, settled(stat, seenAt));
    return { info };
  }

  const files = listFiles(abs);
  const digest = createHash('md5');
  for (const f of files) digest.update(`${f.rel}\t${statSignature(f.stat)}\n`);
  const signature = digest.digest('hex');
  if (!entries) {
    const known = state.lookupRoot(abs, signature);
    if (known) return { info: known };
  }
  const hashes: string[] = new Array(files.length);
  const pending: number[] = [];
  files.forEach((f, i) => {
    const known = state.lookup(f.abs, f.stat);
    if (known) hashes[i] = known;
    else pending.push(i);
  });
  let next = 0;
  const worker = async () => {
    while (next < pending.length) {
      const i = pending[next++]!;
      hashes[i] = await hashFile(files[i]!.abs, files[i]!.stat, state, seenAt);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, pending.length) }, worker));

  const list = files.map((f, i) => ({ md5: hashes[i]!, relpath: f.rel, size: f.stat.size }));
  const size = list.reduce((sum, e) => sum + e.size, 0);
  const info = { md5: `${md5Text(manifestJson(list))}.dir`, size, nfiles: list.length };
  state.recordRoot(abs, signature, info, files.every((f) => settled(f.stat, seenAt)));
  return { info, entries: list };
}

async function hashFile(abs: string, stat: FileStat, state: StateStore, seenAt: number): Promise<string> {
  const known = state.lookup(abs, stat);
  if (known) return known;
  const md5 = await md5File(abs, stat.size);
  state.record(abs, stat, md5, seenAt);
  return md5;
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
 * Every file below `dir`, sorted by POSIX relative path. Links are followed as DVC does (a link counts
 * as what it points to), except a folder link into the folder itself or an ancestor, which would loop.
 */
function listFiles(dir: string): Listed[] {
  const out: Listed[] = [];
  // Real paths of the folders walked through links so far (and the root): a link to any of them, or
  // to a folder holding one, would walk the same files again, forever.
  const chain: string[] = [realpathSync(dir)];
  const walk = (absDir: string, relDir: string) => {
    for (const entry of readdirSync(absDir, { withFileTypes: true })) {
      const abs = `${absDir}/${entry.name}`; // plain concatenation: path.join normalises on every call
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(abs, rel);
      else if (entry.isFile() || entry.isSymbolicLink()) {
        const stat = entry.isFile() ? statSync(abs) : linkTarget(abs);
        if (!stat.isDirectory()) out.push({ abs, rel, stat: { ino: stat.ino, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, size: stat.size } });
        else {
          const real = realpathSync(abs);
          const loops = [...chain, realpathSync(absDir)].some((d) => d === real || d.startsWith(`${real}/`));
          if (loops) throw new LinkError(abs, `a symlink to '${displayPath(real)}', a folder that contains it: following it would loop`);
          chain.push(real);
          walk(abs, rel);
          chain.pop();
        }
      }
    }
  };
  walk(dir, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
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
  const items = entries.map((e) => `{"md5": ${pyString(e.md5)}, "relpath": ${pyString(e.relpath)}}`);
  return `[${items.join(', ')}]`;
}

// Python's ensure_ascii escapes every code unit above 0x7f (astral characters as surrogate pairs).
const HAS_NON_ASCII = /[\u0080-\uffff]/;
const NON_ASCII = /[\u0080-\uffff]/g;

function pyString(s: string): string {
  const json = JSON.stringify(s);
  return HAS_NON_ASCII.test(json) ? json.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}
