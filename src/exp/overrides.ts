import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, isMap, isNode, parse, parseDocument } from 'yaml';
import { writeFileAtomic } from '../core/atomic.js';
import { didYouMean, UsageError } from '../core/errors.js';
import { flatten, getPath, hasPath } from '../core/flatten.js';
import { sameValue } from '../pipeline/params-values.js';
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
 * Writes the overrides into their params files, changing only each overridden value's text: comments,
 * alignment and flow lists elsewhere stay byte for byte. Every key must already exist (a typo is an
 * error with a suggestion, not a new param nobody reads); all files are checked before any is written.
 */
export async function applyOverrides(root: string, overrides: readonly Override[]): Promise<void> {
  const texts = editedTexts(overrides, (file) => (existsSync(join(root, file)) ? readFileSync(join(root, file), 'utf8') : undefined));
  for (const [file, text] of texts) await writeFileAtomic(join(root, file), text);
}

/**
 * Checks overrides against params files' texts (as a commit holds them) without writing anything: the
 * same errors applyOverrides gives, for an experiment queued now and run later.
 */
export function checkOverrides(overrides: readonly Override[], read: (file: string) => string | undefined): void {
  editedTexts(overrides, read);
}

/** Each overridden params file's text with its overrides written in; `read` gives a file's text, undefined when missing. */
function editedTexts(overrides: readonly Override[], read: (file: string) => string | undefined): Map<string, string> {
  const texts = new Map<string, string>();
  for (const o of overrides) {
    const text = texts.get(o.file) ?? read(o.file);
    if (text === undefined) throw new UsageError(`-S ${o.text}: ${o.file} not found`);
    texts.set(o.file, withValue(text, o));
  }
  return texts;
}

/** `text` with the value at `o.key` replaced by `o.value`, written in flow style on one line. */
function withValue(text: string, o: Override): string {
  const doc = parseDocument(text);
  const content: unknown = doc.toJS();
  if (!isMap(doc.contents) || !hasPath(content, o.key)) {
    const hint = didYouMean(o.key, Object.keys(flatten(content)));
    throw new UsageError(`-S ${o.text}: no key '${o.key}' in ${o.file}${hint ? ` (did you mean '${hint}'?)` : ''}`);
  }
  const path = o.key.split('.');
  const node = doc.getIn(path, true);
  const replacement = new Document(o.value).toString({ collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0 }).trimEnd();
  if (isNode(node) && node.range) {
    const [start, end] = node.range;
    const old = text.slice(start, end);
    // An empty value (`key:`) has no text of its own: keep a space after the colon; a block list's
    // range ends with its line break, which stays.
    const value = old === '' ? ` ${replacement}` : replacement + old.slice(old.trimEnd().length);
    const edited = text.slice(0, start) + value + text.slice(end);
    if (sameValue(getPath(parse(edited), o.key), o.value)) return edited;
  }
  // A value the source text cannot take in place (an alias, say): rewrite the document instead.
  doc.setIn(path, o.value);
  return doc.toString();
}
