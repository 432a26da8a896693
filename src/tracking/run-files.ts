import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { link, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isTempName, tempName } from '../core/atomic.js';
import { ConfigError } from '../core/errors.js';
import { displayPath } from '../core/display.js';
import { keyProblem } from './keys.js';
import { readMeta } from './meta-yaml.js';

// File-level helpers shared by the folder store's reader and writer.

export const META_FILE = 'meta.yaml';
export const PARAMS_DIR = 'params';
export const METRICS_DIR = 'metrics';
export const TAGS_DIR = 'tags';
export const ARTIFACTS_DIR = 'artifacts';
export const TRASH_DIR = '.trash';
/** Folders at the root that are not experiments, and inside an experiment that are not runs. */
export const NOT_EXPERIMENTS = new Set([TRASH_DIR, 'models']);
export const NOT_RUNS = new Set(['tags', 'datasets', 'traces']);

/** A problem with one file of the store: listings report it and skip the run; elsewhere it is exit 2. */
export class StoreFileError extends ConfigError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(reason, { file: displayPath(path) });
  }
}

// One reusable buffer: open + read + close into it costs a third less than readFileSync (which also
// fstat()s and allocates per file), and a listing reads thousands of tiny files.
let buffer = Buffer.allocUnsafe(64 * 1024);

/** The file's text, or undefined when it does not exist (or is a folder). */
export function readIfExists(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) return buffer.toString('utf8', 0, length);
      length += n;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function readMetaFile(path: string): Record<string, unknown> | undefined {
  const text = readIfExists(path);
  if (text === undefined) return undefined;
  try {
    return readMeta(text);
  } catch (error) {
    throw new StoreFileError(path, `invalid YAML (${(error as Error).message.split('\n')[0]})`);
  }
}

/**
 * Calls `visit` for every regular file under `dir` (recursively, temp files skipped) with its path
 * relative to `dir`, `/`-separated; nothing when `dir` does not exist.
 */
function walkFiles(dir: string, visit: (path: string, file: string) => void, prefix = ''): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) walkFiles(join(dir, entry.name), visit, `${prefix}${entry.name}/`);
    else if (entry.isFile() && !isTempName(entry.name)) visit(prefix + entry.name, join(dir, entry.name));
  }
}

/** Every file under `dir` as `{key: content}`, keys with `/` for nested folders (MLflow's nested keys). */
export function readKeyFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  walkFiles(dir, (key, file) => {
    const problem = keyProblem(key);
    if (problem) throw new StoreFileError(file, `invalid key name: ${problem}`);
    out.set(key, readIfExists(file) ?? '');
  });
  return out;
}

/** Every file under `dir`, recursively, as `/`-separated paths with sizes, sorted; none when it does not exist. */
export function listFiles(dir: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  walkFiles(dir, (path, file) => out.push({ path, size: statSync(file).size }));
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Subfolder names of `dir` (none when it does not exist). */
export function listSubdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Creates `path` with `data` only if it does not exist yet, atomically: the content is written to a temp
 * file and hard-linked into place, and link(2) fails rather than replace. Returns false if it existed.
 * This is what keeps a param immutable when two processes log it at once.
 */
export async function createExclusive(path: string, data: string): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempName(path);
  await writeFile(temp, data);
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}
