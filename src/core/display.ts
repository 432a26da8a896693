import { relative } from 'node:path';

/** A path as messages show it: relative to the working directory when inside it, else as given. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}
