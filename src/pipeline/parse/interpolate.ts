// `${...}` templating as DVC does it: `${a.b}`, `${a[b]}`, `${lst.0}`; `\${` is a literal `${`.
// A value that is exactly one `${x}` keeps x's type; a mixed string stringifies each part.
import { flatten } from '../../core/flatten.js';
import { didYouMean } from '../../core/errors.js';

const PATTERN = /(?<!\\)\$\{(.*?)\}/g;

/** How a string is being used: a cmd may unpack dicts into flags; a foreach may take any data. */
export type Usage = 'cmd' | 'foreach' | 'value';

/** Raised with a bare detail; the caller knows the file and line and turns it into a ConfigError. */
export class TemplateError extends Error {
  /** Where below the resolved value the failing string sits. */
  path: (string | number)[] = [];
}

export function hasTemplate(text: string): boolean {
  return new RegExp(PATTERN.source).test(text);
}

/** Resolves every string inside `value` (recursively through lists and mappings) against `data`. */
export function resolveDeep(value: unknown, data: unknown, usage: Usage, path: (string | number)[] = []): unknown {
  if (typeof value === 'string') return located(() => resolveString(value, data, usage), path);
  if (Array.isArray(value)) return value.map((v, i) => resolveDeep(v, data, usage, [...path, i]));
  if (isMapping(value)) {
    // Keys are templates too: `outs: [${dir}/model.pkl: {cache: false}]`.
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [String(located(() => resolveString(k, data, 'value'), [...path, k])), resolveDeep(v, data, usage, [...path, k])]),
    );
  }
  return value;
}

function located<T>(resolve: () => T, path: (string | number)[]): T {
  try {
    return resolve();
  } catch (error) {
    if (error instanceof TemplateError) error.path = path;
    throw error;
  }
}

function resolveString(text: string, data: unknown, usage: Usage): unknown {
  const matches = [...text.matchAll(PATTERN)];
  if (matches.length === 1 && matches[0]![0] === text) {
    const value = lookup(matches[0]![1]!, data);
    checkInterpolable(value, usage);
    return usage === 'cmd' && value !== null && typeof value === 'object' ? toText(value) : value;
  }
  let out = '';
  let last = 0;
  for (const match of matches) {
    const value = lookup(match[1]!, data);
    checkInterpolable(value, usage);
    out += text.slice(last, match.index) + toText(value);
    last = match.index! + match[0].length;
  }
  return (out + text.slice(last)).replaceAll('\\${', '${');
}

/** The value at an expression such as `a.b`, `a[b]`, `lst.0` or `lst[0]`. */
function lookup(expression: string, data: unknown): unknown {
  const expr = expression.trim();
  const parts = splitKey(expr);
  let node = data;
  for (const [i, part] of parts.entries()) {
    const container = node;
    node = isMapping(container) && Object.hasOwn(container, part)
      ? container[part]
      : Array.isArray(container) && /^\d+$/.test(part) && Number(part) < container.length
        ? container[Number(part)]
        : undefined;
    if (node === undefined) {
      const known = isMapping(container) ? Object.keys(container) : [];
      const hint = didYouMean(part, known);
      const where = i === 0 ? '' : ` ('${parts.slice(0, i).join('.')}' has no '${part}')`;
      throw new TemplateError(`could not find '\${${expr}}'${where}${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
  }
  return node;
}

function splitKey(expr: string): string[] {
  if (!/^[^.[\]\s]+(\.[^.[\]\s]+|\[[^[\]\s]+\])*$/.test(expr)) {
    throw new TemplateError(`invalid expression '\${${expr}}'`);
  }
  return [...expr.matchAll(/[^.[\]]+/g)].map((m) => m[0]);
}

// As DVC: only a cmd may take a dict (unpacked into flags); a list fits nowhere in a string, so
// `echo ${lst}` is refused (its items inside a dict's flags are fine: `--list 2 3`).
function checkInterpolable(value: unknown, usage: Usage): void {
  if (value === null || typeof value !== 'object' || usage === 'foreach') return;
  if (usage === 'cmd' && !Array.isArray(value)) return;
  throw new TemplateError(`Cannot interpolate data of type '${Array.isArray(value) ? 'list' : 'dict'}'`);
}

/** Text form of a value in a string; dicts become `--key value` flags, lists space-separated words. */
function toText(value: unknown): string {
  if (Array.isArray(value)) return words(value);
  if (isMapping(value)) {
    const flags: string[] = [];
    for (const [key, v] of Object.entries(flatten(value))) {
      if (v === true) flags.push(`--${key}`);
      else if (v === false) continue;
      else if (Array.isArray(v)) flags.push(v.length ? `--${key} ${words(v, key)}` : `--${key}`);
      else flags.push(`--${key} ${word(v)}`);
    }
    return flags.join(' ');
  }
  return scalarText(value);
}

/** A list's items as shell words; a list or mapping inside it has no text form. */
function words(list: readonly unknown[], key?: string): string {
  if (list.some((x) => x !== null && typeof x === 'object')) {
    throw new TemplateError(`Cannot interpolate nested iterable${key === undefined ? '' : ` in '${key}'`}`);
  }
  return list.map(word).join(' ');
}

/** A scalar as one shell word: strings quoted when needed (as Python's shlex.quote does). */
function word(value: unknown): string {
  if (typeof value !== 'string') return scalarText(value);
  if (value === '') return "''";
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'"'"'`)}'`;
}

// As Python prints them, so a cmd reads the same as under DVC: None, inf, nan, and floats below
// 1e-4 in exponent form with two exponent digits (1e-05). Whole floats (1.0, 1e16) are integers
// once parsed, so they print as integers. Generated stage names use the same text (DVC's to_str).
export function scalarText(value: unknown): string {
  if (value === null) return 'None';
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  if (typeof value === 'number' && !Number.isInteger(value) && Math.abs(value) < 1e-4) {
    return value.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return String(value);
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
