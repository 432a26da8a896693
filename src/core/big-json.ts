import { constants } from 'node:buffer';
import { open, readFile } from 'node:fs/promises';
import { writeAtomically, writeFileAtomic } from './atomic.js';

// JSON documents too large for one JavaScript string: V8 caps a string at about 512 MiB, and a forest
// grown on millions of rows is more than that as text (20 unpruned trees on 2,000,000 rows: over 600 MB).
// One array in the document, named by its key path, is written and read element by element; everything
// else goes through JSON.parse and JSON.stringify as usual. The text written is exactly JSON.stringify's,
// so a document that fits in a string is the same file as before and any JSON reader reads the big one.

/**
 * Writes `value` as JSON (one line, as JSON.stringify, then a newline) at `path`, temp-file-and-rename;
 * the array at `arrayPath`, when the document has one there, element by element.
 */
export async function writeJsonFile(path: string, value: unknown, arrayPath: readonly string[]): Promise<void> {
  const array = valueAt(value, arrayPath);
  if (!Array.isArray(array)) return writeFileAtomic(path, `${JSON.stringify(value)}\n`);
  const marker = '\u0000array\u0000';
  // The array's place in the text, marked by a string no document of ours holds.
  const [head, tail] = JSON.stringify(value, (_key, v: unknown) => (v === array ? marker : v)).split(JSON.stringify(marker));
  await writeAtomically(path, async (temp) => {
    const file = await open(temp, 'w');
    try {
      await file.write(`${head}[`);
      for (let i = 0; i < array.length; i++) await file.write(`${i > 0 ? ',' : ''}${JSON.stringify(array[i])}`);
      await file.write(`]${tail}\n`);
    } finally {
      await file.close();
    }
  });
}

/**
 * The JSON document at `path`; when its text is longer than `maxText` characters (V8's string limit by
 * default), the array at `arrayPath` is parsed element by element. Throws SyntaxError on bad JSON.
 */
export async function readJsonFile(path: string, arrayPath: readonly string[], maxText = constants.MAX_STRING_LENGTH): Promise<unknown> {
  const bytes = await readFile(path);
  if (bytes.length <= maxText) return JSON.parse(bytes.toString('utf8'));
  const found = findArray(bytes, arrayPath);
  if (!found) throw new SyntaxError(`no array at ${arrayPath.join('.')} in a document too large to read whole`);
  const doc = JSON.parse(`${bytes.toString('utf8', 0, found.start)}[]${bytes.toString('utf8', found.end)}`) as unknown;
  const array = valueAt(doc, arrayPath) as unknown[];
  for (const [from, to] of found.elements) array.push(JSON.parse(bytes.toString('utf8', from, to)));
  return doc;
}

const valueAt = (doc: unknown, path: readonly string[]): unknown =>
  path.reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), doc);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN = new Set([0x7b, 0x5b]); // { [
const CLOSE = new Set([0x7d, 0x5d]); // } ]

/** The byte span of the array at `path` (brackets included) and of each of its elements (objects or arrays). */
function findArray(bytes: Buffer, path: readonly string[]): { start: number; end: number; elements: [number, number][] } | undefined {
  // keys[d]: the key whose value opened depth d + 1 (undefined for the root and array elements).
  const keys: (string | undefined)[] = [];
  let depth = 0;
  let pendingKey: string | undefined;
  let inside: { start: number; depth: number; elements: [number, number][]; from: number } | undefined;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) {
      const end = stringEnd(bytes, i);
      let j = end + 1;
      while (j < bytes.length && bytes[j]! <= 0x20) j++;
      // A string followed by ':' is a key (short: only the document's own keys are decoded).
      pendingKey = bytes[j] === COLON ? (JSON.parse(bytes.toString('utf8', i, end + 1)) as string) : undefined;
      i = end;
    } else if (OPEN.has(c)) {
      keys[depth] = pendingKey;
      depth++;
      pendingKey = undefined;
      if (inside && depth === inside.depth + 1) inside.from = i;
      if (!inside && c === 0x5b && depth === path.length + 1 && path.every((key, d) => keys[d + 1] === key)) {
        inside = { start: i, depth, elements: [], from: -1 };
      }
    } else if (CLOSE.has(c)) {
      if (inside && depth === inside.depth + 1) inside.elements.push([inside.from, i + 1]);
      if (inside && depth === inside.depth) return { start: inside.start, end: i + 1, elements: inside.elements };
      depth--;
      pendingKey = undefined;
    }
  }
  return undefined;
}

/** The index of the quote closing the string that opens at `start`. */
function stringEnd(bytes: Buffer, start: number): number {
  let j = start;
  for (;;) {
    j = bytes.indexOf(QUOTE, j + 1);
    if (j < 0) throw new SyntaxError('unterminated string');
    let backslashes = 0;
    while (bytes[j - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
}
