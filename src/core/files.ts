import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import { displayPath } from './display.js';

/** A file's text, or a ConfigError naming it (as shown to the user) when it cannot be read. */
export function readText(path: string): { file: string; text: string } {
  const file = displayPath(path);
  try {
    return { file, text: readFileSync(path, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? 'file not found' : `cannot read (${code})`, { file });
  }
}
