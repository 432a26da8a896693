import { readdirSync, statSync, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { md5File, md5Text } from './hash.js';
import type { StateStore } from './state.js';
import { statSignature, type FileStat } from '../core/signature.js';

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
    state.recordRoot(abs, signature, info);
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
      hashes[i] = await hashFile(files[i]!.abs, files[i]!.stat, state);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, pending.length) }, worker));

  const list = files.map((f, i) => ({ md5: hashes[i]!, relpath: f.rel, size: f.stat.size }));
  const size = list.reduce((sum, e) => sum + e.size, 0);
  const info = { md5: `${md5Text(manifestJson(list))}.dir`, size, nfiles: list.length };
  state.recordRoot(abs, signature, info);
  return { info, entries: list };
}

async function hashFile(abs: string, stat: FileStat, state: StateStore): Promise<string> {
  const known = state.lookup(abs, stat);
  if (known) return known;
  const md5 = await md5File(abs, stat.size);
  state.record(abs, stat, md5);
  return md5;
}

interface Listed {
  abs: string;
  rel: string;
  /** Only what identifies a version; full Stats objects (with four Dates each) are not kept alive. */
  stat: FileStat;
}

/** Every file below `dir` (following links to files), sorted by POSIX relative path. */
function listFiles(dir: string): Listed[] {
  const out: Listed[] = [];
  const walk = (absDir: string, relDir: string) => {
    for (const entry of readdirSync(absDir, { withFileTypes: true })) {
      const abs = `${absDir}/${entry.name}`; // plain concatenation: path.join normalises on every call
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(abs, rel);
      else if (entry.isFile() || entry.isSymbolicLink()) {
        const stat = statSync(abs);
        if (stat.isDirectory()) walk(abs, rel);
        else out.push({ abs, rel, stat: { ino: stat.ino, mtimeMs: stat.mtimeMs, size: stat.size } });
      }
    }
  };
  walk(dir, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
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
