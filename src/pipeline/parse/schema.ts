// The dvc.yaml schema: which keys each level accepts, and small typed readers that turn a wrong
// shape into a located ConfigError (with a did-you-mean for misspelt keys).
import { didYouMean } from '../../core/errors.js';
import type { YamlSource } from '../../core/yaml.js';
import { isMapping } from './interpolate.js';

export type YamlPath = (string | number)[];

/** DVC 3 model-registry and dataset declarations: accepted so such files load, but unused here. */
const IGNORED_TOP_KEYS = ['artifacts', 'datasets'];

export const TOP_KEYS = ['stages', 'vars', 'params', 'metrics', 'plots', ...IGNORED_TOP_KEYS];
export const STAGE_KEYS = ['cmd', 'wdir', 'deps', 'params', 'outs', 'metrics', 'plots', 'frozen', 'always_changed', 'desc', 'meta', 'vars'];
export const FOREACH_KEYS = ['foreach', 'do'];
export const MATRIX_KEYS = ['matrix', ...STAGE_KEYS];
/** Flags on an `outs`/`metrics` entry, with the type each must have. */
export const OUT_FLAGS: Record<string, Check> = {
  cache: 'boolean', persist: 'boolean', remote: 'string', push: 'boolean', desc: 'string', type: 'string', labels: 'list', meta: 'any',
  checkpoint: 'boolean', // old DVC files still carry it
};
export const PLOT_FLAGS: Record<string, Check> = {
  ...OUT_FLAGS, template: 'string', x: 'string', y: 'string-or-list', x_label: 'string', y_label: 'string', title: 'string', header: 'boolean',
};
/** Properties of a top-level plot definition; x and y may also map files to fields. */
export const TOP_PLOT_PROPS: Record<string, Check> = {
  template: 'string', x: 'any', y: 'any', x_label: 'string', y_label: 'string', title: 'string',
};

export type Check = 'string' | 'boolean' | 'list' | 'string-or-list' | 'any';

/** Throws on the first key of `value` not in `allowed`, suggesting the closest allowed key. */
export function checkKeys(value: Record<string, unknown>, allowed: readonly string[], source: YamlSource, path: YamlPath, what: string): void {
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const hint = didYouMean(key, allowed);
    throw source.error([...path, key], `unknown ${what} key '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
  }
}

export function mapping(value: unknown, source: YamlSource, path: YamlPath, what = 'a mapping'): Record<string, unknown> {
  if (!isMapping(value)) throw source.error(path, `expected ${what}, got ${typeName(value)}`);
  return value;
}

export function list(value: unknown, source: YamlSource, path: YamlPath): unknown[] {
  if (!Array.isArray(value)) throw source.error(path, `expected a list, got ${typeName(value)}`);
  return value;
}

/** A list of path strings, where a missing key or null means none. */
export function stringList(value: unknown, source: YamlSource, path: YamlPath): string[] {
  if (value === undefined || value === null) return [];
  return list(value, source, path).map((item, i) => string(item, source, [...path, i]));
}

export function string(value: unknown, source: YamlSource, path: YamlPath): string {
  if (typeof value !== 'string') throw source.error(path, `expected a string, got ${typeName(value)}`);
  return value;
}

export function boolean(value: unknown, source: YamlSource, path: YamlPath, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw source.error(path, `expected true or false, got ${typeName(value)}`);
  return value;
}

/** Checks each flag of an entry against its expected type. */
export function checkFlags(flags: Record<string, unknown>, allowed: Record<string, Check>, source: YamlSource, path: YamlPath, what: string): void {
  checkKeys(flags, Object.keys(allowed), source, path, what);
  for (const [key, value] of Object.entries(flags)) {
    const check = allowed[key]!;
    const ok =
      check === 'any' ||
      (check === 'string' && typeof value === 'string') ||
      (check === 'boolean' && typeof value === 'boolean') ||
      (check === 'list' && Array.isArray(value)) ||
      (check === 'string-or-list' && (typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))));
    if (!ok) throw source.error([...path, key], `expected ${check === 'boolean' ? 'true or false' : check === 'list' ? 'a list' : check === 'string' ? 'a string' : 'a string or a list of strings'}, got ${typeName(value)}`);
  }
}

/** How a value reads in messages: "got a string", "got a list", "got nothing". */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}
