import { getPath, setOwn } from '../core/flatten.js';
import type { LockedParams } from './lockfile.js';
import type { ParamSpec } from './model.js';

/**
 * Params files' contents, each read once per run (several stages usually share params.yaml) by `load`
 * (the YAML reader, or a snapshot of what it read last time).
 */
export class ParamsReader {
  /** Contents by path relative to the root, as read so far. */
  readonly files = new Map<string, unknown>();

  constructor(private readonly load: (rel: string) => unknown) {}

  private file(rel: string): unknown {
    if (!this.files.has(rel)) this.files.set(rel, this.load(rel));
    return this.files.get(rel);
  }

  /** The values a stage tracks, as the lock file records them: `{file: {key: value}}`, keys sorted. */
  values(specs: readonly ParamSpec[]): LockedParams {
    const out: LockedParams = {};
    for (const spec of specs) {
      const content = this.file(spec.rel);
      const values = (out[spec.file] ??= {});
      if (spec.keys === null) {
        if (content && typeof content === 'object') for (const [k, v] of Object.entries(content)) setOwn(values, k, v);
      } else {
        for (const key of spec.keys) setOwn(values, key, getPath(content, key) ?? null);
      }
    }
    for (const file of Object.keys(out)) out[file] = sortKeys(out[file]!);
    return out;
  }
}

function sortKeys(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Deep equality of plain YAML values, independent of key order. */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
