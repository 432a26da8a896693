import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, parse, parseDocument } from 'yaml';
import { writeFileAtomic } from '../core/atomic.js';
import { didYouMean, UsageError } from '../core/errors.js';
import { flatten, hasPath } from '../core/flatten.js';
import { DEFAULT_PARAMS_FILE } from '../params/params.js';

/** One `-S [file:]key=value`: the value is read as YAML, so `300` is a number and `null` is null. */
export interface Override {
  readonly file: string;
  readonly key: string;
  readonly value: unknown;
  /** As typed, for the record. */
  readonly text: string;
}

export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`-S expects [file:]key=value, got '${text}'`);
  const target = text.slice(0, eq);
  const colon = target.lastIndexOf(':');
  const file = colon > 0 ? target.slice(0, colon) : DEFAULT_PARAMS_FILE;
  const key = colon > 0 ? target.slice(colon + 1) : target;
  if (!key) throw new UsageError(`-S expects [file:]key=value, got '${text}'`);
  return { file, key, value: parse(text.slice(eq + 1)) ?? null, text };
}

/**
 * Writes the overrides into their params files, keeping comments and layout. Every key must already
 * exist (a typo is an error with a suggestion, not a new param nobody reads); all files are checked
 * before any is written.
 */
export async function applyOverrides(root: string, overrides: readonly Override[]): Promise<void> {
  const docs = new Map<string, ReturnType<typeof parseDocument>>();
  for (const o of overrides) {
    const path = join(root, o.file);
    if (!docs.has(o.file)) {
      if (!existsSync(path)) throw new UsageError(`-S ${o.text}: ${o.file} not found`);
      docs.set(o.file, parseDocument(readFileSync(path, 'utf8')));
    }
    const doc = docs.get(o.file)!;
    const content: unknown = doc.toJS();
    if (!isMap(doc.contents) || !hasPath(content, o.key)) {
      const hint = didYouMean(o.key, Object.keys(flatten(content)));
      throw new UsageError(`-S ${o.text}: no key '${o.key}' in ${o.file}${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
    doc.setIn(o.key.split('.'), o.value);
  }
  for (const [file, doc] of docs) await writeFileAtomic(join(root, file), doc.toString());
}
