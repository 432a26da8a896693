import { ConfigError, didYouMean } from '../core/errors.js';
import { displayPath } from '../core/display.js';
import { flatten, getPath, hasPath, setOwn } from '../core/flatten.js';
import type { LockedParams } from './lockfile.js';
import type { ParamSpec, Pipeline, Stage } from './model.js';
import { isWithin } from './parse/paths.js';

/**
 * Params files' contents, each read once per run (several stages usually share params.yaml) by `load`
 * (the YAML reader, or a snapshot of what it read last time).
 */
export class ParamsReader {
  /** Contents by path relative to the root, as read so far. */
  readonly files = new Map<string, unknown>();

  /** `load` returns undefined for a file that does not exist. */
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

  /** Tracked params that are not there: `key` '' when the whole file is missing. */
  missing(specs: readonly ParamSpec[]): { file: string; key: string }[] {
    return specs.flatMap((spec) => {
      const content = this.file(spec.rel);
      if (content === undefined) return [{ file: spec.file, key: '' }];
      return (spec.keys ?? []).filter((key) => !hasPath(content, key)).map((key) => ({ file: spec.file, key }));
    });
  }

  /**
   * Refuses (exit 2, before anything runs) a stage about to be reproduced whose params are missing,
   * unless another stage of the project produces that params file.
   */
  require(stages: readonly Stage[], pipelines: readonly Pipeline[]): void {
    const produced = pipelines.flatMap((p) => p.stages.flatMap((s) => s.outs.map((o) => o.rel)));
    for (const stage of stages) {
      const specs = stage.params.filter((spec) => !produced.some((out) => isWithin(spec.rel, out)));
      const [first] = this.missing(specs);
      if (!first) continue;
      const file = pipelines.find((p) => p.fileRel === stage.file)!.file;
      const where = { file: displayPath(file), line: stage.line, key: `stages.${stage.name}.params` };
      if (!first.key) throw new ConfigError(`params file '${first.file}' not found`, where);
      const spec = specs.find((s) => s.file === first.file)!;
      const hint = didYouMean(first.key, Object.keys(flatten(this.file(spec.rel))));
      throw new ConfigError(`param '${first.key}' not found in '${first.file}'${hint ? ` (did you mean '${hint}'?)` : ''}`, where);
    }
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
