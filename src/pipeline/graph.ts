// The stage graph: a stage depends on another when one of its deps (or params files) equals, lies
// inside, or contains one of the other's outputs. Order is DVC's: depth-first post-order, starting
// points in file order.
import { resolve } from 'node:path';
import { ConfigError, didYouMean } from '../core/errors.js';
import { displayPath } from '../core/display.js';
import type { Pipeline, Stage } from './model.js';

export interface SelectOptions {
  /** The targets and everything downstream of them (instead of upstream). */
  downstream?: boolean;
  /** Only the targets themselves. */
  singleItem?: boolean;
}

export interface StageGraph {
  readonly pipeline: Pipeline;
  /** Every stage, dependencies before dependants. */
  readonly order: readonly Stage[];
  /** `[upstream, downstream]` name pairs, in order of discovery. */
  readonly edges: readonly (readonly [string, string])[];
  /** Stages `name` depends on (directly, or all of them with `transitive`), in topological order. */
  upstream(name: string, transitive?: boolean): Stage[];
  /** Stages that depend on `name` (directly, or all of them with `transitive`), in topological order. */
  downstream(name: string, transitive?: boolean): Stage[];
  /** Stages for `repro`-style targets (see SelectOptions); no targets means every stage. */
  select(targets: readonly string[], options?: SelectOptions): Stage[];
}

export function buildGraph(pipeline: Pipeline): StageGraph {
  const byName = new Map(pipeline.stages.map((s) => [s.name, s]));
  const up = new Map<string, string[]>(pipeline.stages.map((s) => [s.name, []]));
  const down = new Map<string, string[]>(pipeline.stages.map((s) => [s.name, []]));
  const edges: [string, string][] = [];
  const producers = outputIndex(pipeline);
  for (const stage of pipeline.stages) {
    // Params files are dependencies too (as in DVC): a stage may read params another one writes.
    for (const dep of [...stage.deps.map((d) => d.rel), ...stage.params.map((p) => p.rel)]) {
      for (const other of producers(dep)) {
        if (other === stage.name || up.get(stage.name)!.includes(other)) continue;
        up.get(stage.name)!.push(other);
        down.get(other)!.push(stage.name);
        edges.push([other, stage.name]);
      }
    }
  }

  const order = topologicalOrder(pipeline, up);
  const rank = new Map(order.map((s, i) => [s.name, i]));
  const sorted = (names: Iterable<string>) => [...names].map((n) => byName.get(n)!).sort((a, b) => rank.get(a.name)! - rank.get(b.name)!);
  // Everything reachable from `start` (not counting `start` itself unless reached again).
  const closure = (start: readonly string[], links: Map<string, string[]>) => {
    const seen = new Set<string>();
    const todo = [...start];
    for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
      for (const next of links.get(n)!) {
        if (!seen.has(next)) {
          seen.add(next);
          todo.push(next);
        }
      }
    }
    return seen;
  };
  const known = (name: string) => {
    if (!byName.has(name)) throw unknownTarget(pipeline, name);
    return name;
  };

  return {
    pipeline,
    order,
    edges,
    upstream: (name, transitive = false) => sorted(transitive ? closure([known(name)], up) : up.get(known(name))!),
    downstream: (name, transitive = false) => sorted(transitive ? closure([known(name)], down) : down.get(known(name))!),
    select(targets, options = {}) {
      if (targets.length === 0) return [...order];
      const chosen = new Set(targets.flatMap((t) => resolveTarget(pipeline, t)));
      if (!options.singleItem) {
        for (const name of closure([...chosen], options.downstream ? down : up)) chosen.add(name);
      }
      return sorted(chosen);
    },
  };
}

/**
 * For a path, the stages (in file order) with an output equal to it, above it, or inside it. Sorted
 * output paths make "inside" a range search, so thousands of foreach stages stay fast.
 */
function outputIndex(pipeline: Pipeline): (path: string) => string[] {
  const position = new Map(pipeline.stages.map((s, i) => [s.name, i]));
  const outs = pipeline.stages.flatMap((s) => s.outs.map((o) => ({ rel: o.rel, stage: s.name })));
  const exact = new Map<string, string[]>();
  for (const o of outs) exact.set(o.rel, [...(exact.get(o.rel) ?? []), o.stage]);
  const sorted = outs.map((o) => o.rel).sort();
  return (path) => {
    const found = new Set<string>();
    const parts = path.split('/');
    for (let n = 1; n <= parts.length; n++) for (const s of exact.get(parts.slice(0, n).join('/')) ?? []) found.add(s);
    const prefix = path === '.' ? '' : `${path}/`;
    for (let i = lowerBound(sorted, prefix); i < sorted.length && sorted[i]!.startsWith(prefix); i++) {
      for (const s of exact.get(sorted[i]!)!) found.add(s);
    }
    return [...found].sort((a, b) => position.get(a)! - position.get(b)!);
  };
}

function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function topologicalOrder(pipeline: Pipeline, up: Map<string, string[]>): Stage[] {
  const byName = new Map(pipeline.stages.map((s) => [s.name, s]));
  const done = new Set<string>();
  const path: string[] = [];
  const order: Stage[] = [];
  const visit = (name: string) => {
    if (done.has(name)) return;
    const at = path.indexOf(name);
    if (at >= 0) {
      // The walk follows "depends on"; the message shows the data flow instead.
      const cycle = [...path.slice(at), name].reverse();
      const first = byName.get(name)!;
      throw new ConfigError(`dependency cycle: ${cycle.join(' -> ')}`, { file: displayPath(pipeline.file), line: first.line, key: `stages.${name}` });
    }
    path.push(name);
    for (const dep of up.get(name)!) visit(dep);
    path.pop();
    done.add(name);
    order.push(byName.get(name)!);
  };
  for (const stage of pipeline.stages) visit(stage.name);
  return order;
}

/**
 * A target names a stage, a foreach/matrix group (`build` = every `build@...`), `file.yaml:name`,
 * or the pipeline file itself (every stage).
 */
function resolveTarget(pipeline: Pipeline, target: string): string[] {
  const colon = target.lastIndexOf(':');
  let name = target;
  if (colon > 0) {
    const file = target.slice(0, colon);
    if (!isPipelineFile(pipeline, file)) {
      throw new ConfigError(`target names '${file}' but the pipeline file is '${displayPath(pipeline.file)}'`, { key: target });
    }
    name = target.slice(colon + 1);
    if (!name) return pipeline.stages.map((s) => s.name);
  } else if (isPipelineFile(pipeline, target)) {
    return pipeline.stages.map((s) => s.name);
  }
  if (pipeline.stages.some((s) => s.name === name)) return [name];
  const group = pipeline.stages.filter((s) => s.name.startsWith(`${name}@`)).map((s) => s.name);
  if (group.length) return group;
  throw unknownTarget(pipeline, name);
}

function isPipelineFile(pipeline: Pipeline, file: string): boolean {
  return resolve(file) === pipeline.file || resolve(pipeline.root, file) === pipeline.file;
}

function unknownTarget(pipeline: Pipeline, name: string): ConfigError {
  const names = pipeline.stages.map((s) => s.name);
  const candidates = [...new Set([...names, ...names.map((n) => n.split('@')[0]!)])];
  const hint = didYouMean(name, candidates);
  return new ConfigError(`no stage named '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}`, { file: displayPath(pipeline.file), key: name });
}
