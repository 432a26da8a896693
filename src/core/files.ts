import { readFileSync } from 'node:fs';
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
