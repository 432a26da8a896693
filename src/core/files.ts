import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ConfigError } from './errors.js';
import { displayPath } from './display.js';

/** A file's text, or a ConfigError naming it (as shown to the user) when it cannot be read. */
export function readText(path: string): { file: string; text: string } {
  const file = displayPath(path);
  try {
    return { file, text: readFileSync(path, 'utf8') };
  } catch (error) {
    throw unreadable(file, error);
  }
}

/** The one line for a file (shown as `file`) that could not be read. */
export function unreadable(file: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code;
  return new ConfigError(code === 'ENOENT' ? 'file not found' : `cannot read (${code})`, { file });
}

/**
 * `path` (absolute, or relative to `base`) relative to `base` in POSIX form when it lies at or under
 * it ('' for base itself); undefined when it leaves it. A name that merely starts with '..' stays inside.
 */
export function insideOf(base: string, path: string): string | undefined {
  const rel = relative(base, resolve(base, path));
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/**
 * The text of a file up to its first line break (the whole file when it has none), read a chunk at a
 * time: a CSV's header without reading its rows (a training split may be larger than one string).
 */
export function readFirstLine(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    const chunk = Buffer.alloc(64 * 1024);
    for (let at = 0; ; ) {
      const n = readSync(fd, chunk, 0, chunk.length, at);
      const end = chunk.subarray(0, n).indexOf(0x0a);
      chunks.push(Buffer.from(chunk.subarray(0, end < 0 ? n : end)));
      if (end >= 0 || n === 0) return Buffer.concat(chunks).toString('utf8');
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}
