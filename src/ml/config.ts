import { didYouMean, type ConfigError } from '../core/errors.js';
import type { ParamsSection } from '../params/params.js';

// Validation helpers for the ML sections of params.yaml: each bad value becomes a ConfigError at its
// file, line and dotted key, before anything is read or written.

export type Path = readonly (string | number)[];

export class SectionReader {
  constructor(readonly section: ParamsSection) {}

  error(path: Path, detail: string): ConfigError {
    return this.section.source.error([this.section.name, ...path], detail);
  }

  /** Rejects keys outside `allowed`, suggesting the closest one. */
  checkKeys(path: Path, value: Record<string, unknown>, allowed: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (allowed.includes(key)) continue;
      const hint = didYouMean(key, allowed);
      throw this.error([...path, key], `unknown key${hint ? ` (did you mean '${hint}'?)` : ''}; expected one of ${allowed.join(', ')}`);
    }
  }

  get(path: Path): unknown {
    let node: unknown = this.section.value;
    for (const part of path) node = node === null || typeof node !== 'object' ? undefined : (node as Record<string | number, unknown>)[part];
    return node;
  }

  mapping(path: Path, fallback?: Record<string, unknown>): Record<string, unknown> {
    const v = this.get(path);
    if (v === undefined && fallback) return fallback;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw this.error(path, 'expected a mapping');
    return v as Record<string, unknown>;
  }

  string(path: Path, fallback?: string): string {
    const v = this.get(path);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || v === '') throw this.error(path, v === undefined ? 'required' : 'expected a non-empty string');
    return v;
  }

  choice<T extends string>(path: Path, choices: readonly T[], fallback?: T): T {
    const v = this.get(path);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as T;
    const hint = typeof v === 'string' ? didYouMean(v, choices) : undefined;
    throw this.error(path, `expected one of ${choices.join(', ')}${hint ? ` (did you mean '${hint}'?)` : ''}, got ${JSON.stringify(v)}`);
  }

  integer(path: Path, min: number, fallback?: number): number {
    const v = this.get(path);
    if (v === undefined && fallback !== undefined) return fallback;
    if (!Number.isInteger(v) || (v as number) < min) throw this.error(path, `expected an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v as number;
  }

  number(path: Path, check: (n: number) => boolean, expected: string, fallback?: number): number {
    const v = this.get(path);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) throw this.error(path, `expected ${expected}, got ${JSON.stringify(v)}`);
    return v;
  }

  stringList(path: Path): string[] {
    const v = this.get(path);
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw this.error(path, 'expected a list of column names');
    return v as string[];
  }
}
