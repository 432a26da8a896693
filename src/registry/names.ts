import { UsageError } from '../core/errors.js';

// MLflow's rules for registered model names and aliases (its FileStore's and validation module's),
// plus two of our own that keep a name usable as one folder and inside a `models:/` URI.

const MAX_ALIAS_LENGTH = 255;
const ALIAS = /^[\w-]+$/;
const VERSION_LIKE_ALIAS = /^[vV]\d+$/;

/** A registered model name MLflow's file store accepts and that names exactly one folder. */
export function checkModelName(name: string): string {
  const bad = (why: string) => new UsageError(`invalid model name ${JSON.stringify(name)}: ${why}`);
  if (name === '') throw bad('it is empty');
  if (/[/\\]/.test(name)) throw bad('it contains a path separator');
  if (name.includes('%')) throw bad("it contains '%'");
  // Ours: `.`/`..` would name the models folder or its parent; `@` would split a models:/ URI; control
  // characters and edge spaces make a folder nobody can type.
  if (name === '.' || name === '..') throw bad('it names a folder above the model');
  if (name.includes('@')) throw bad("it contains '@' (models:/NAME@ALIAS would be ambiguous)");
  if (/[\u0000-\u001f\u007f]/.test(name) || name.trim() !== name) throw bad('it contains control characters or edge spaces');
  return name;
}

/** An alias MLflow accepts: letters, digits, `_` and `-`; not `latest`, not `v<N>`. */
export function checkAlias(alias: string): string {
  const bad = (why: string) => new UsageError(`invalid alias ${JSON.stringify(alias)}: ${why}`);
  if (!ALIAS.test(alias)) throw bad('aliases may only contain letters, digits, _ and -');
  if (alias.length > MAX_ALIAS_LENGTH) throw bad(`longer than ${MAX_ALIAS_LENGTH} characters`);
  if (alias.toLowerCase() === 'latest') throw bad("'latest' is reserved");
  if (VERSION_LIKE_ALIAS.test(alias)) throw bad('v<number> is reserved for versions');
  return alias;
}

/** A version number as typed: a positive integer. */
export function parseVersion(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError(`invalid version ${JSON.stringify(text)}: expected a positive integer`);
  return Number(text);
}

/** Which version a `models:/` URI (or a VERSION argument) asks for. */
export type VersionRef = { kind: 'version'; version: number } | { kind: 'alias'; alias: string } | { kind: 'latest' };

export interface ModelUri {
  readonly name: string;
  readonly ref: VersionRef;
}

export const MODELS_SCHEME = 'models:/';

/** `models:/NAME@ALIAS`, `models:/NAME/VERSION`, `models:/NAME/latest`; undefined for anything else (a path). */
export function parseModelUri(text: string): ModelUri | undefined {
  if (!text.startsWith(MODELS_SCHEME)) return undefined;
  const rest = text.slice(MODELS_SCHEME.length);
  const at = rest.lastIndexOf('@');
  if (at >= 0) return { name: checkModelName(rest.slice(0, at)), ref: { kind: 'alias', alias: checkAlias(rest.slice(at + 1)) } };
  const slash = rest.lastIndexOf('/');
  if (slash < 0) throw new UsageError(`invalid model URI ${JSON.stringify(text)}: expected models:/NAME@ALIAS, models:/NAME/VERSION or models:/NAME/latest`);
  return { name: checkModelName(rest.slice(0, slash)), ref: parseVersionRef(rest.slice(slash + 1)) };
}

/** A VERSION argument: a number, `latest`, or an alias. */
export function parseVersionRef(text: string): VersionRef {
  if (text === 'latest') return { kind: 'latest' };
  if (/^\d+$/.test(text)) return { kind: 'version', version: parseVersion(text) };
  return { kind: 'alias', alias: checkAlias(text) };
}
