// The stage graph of every pipeline of a project: a stage depends on another when one of its deps
// (or params files) equals, lies inside, or contains one of the other's outputs, whichever files
// they are in. Order is DVC's: depth-first post-order, starting points in file order. Stages are
// keyed by their address (`name`, or `sub/dvc.yaml:name`).
import { isAbsolute, posix, relative, sep } from 'node:path';
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
  readonly pipelines: readonly Pipeline[];
  /** Every stage, dependencies before dependants. */
  readonly order: readonly Stage[];
  /** `[upstream, downstream]` address pairs, in order of discovery. */
  readonly edges: readonly (readonly [string, string])[];
  /** Stages `name` depends on (directly, or all of them with `transitive`), in topological order. */
  upstream(name: string, transitive?: boolean): Stage[];
  /** Stages that depend on `name` (directly, or all of them with `transitive`), in topological order. */
  downstream(name: string, transitive?: boolean): Stage[];
  /**
   * Stages for `repro`-style targets (see SelectOptions), resolved from the folder `cwdRel` (relative
   * to the root); no targets means every stage.
   */
  select(targets: readonly string[], options?: SelectOptions & { cwdRel?: string }): Stage[];
}

export function buildGraph(pipelines: readonly Pipeline[]): StageGraph {
  const stages = pipelines.flatMap((p) => p.stages);
  const byName = new Map(stages.map((s) => [s.address, s]));
  const up = new Map<string, string[]>(stages.map((s) => [s.address, []]));
  const down = new Map<string, string[]>(stages.map((s) => [s.address, []]));
  const edges: [string, string][] = [];
  const producers = outputIndex(stages);
  for (const stage of stages) {
    // Params files are dependencies too (as in DVC): a stage may read params another one writes.
    for (const dep of [...stage.deps.filter((d) => !d.external).map((d) => d.rel), ...stage.params.map((p) => p.rel)]) {
      for (const other of producers(dep)) {
        if (other === stage.address || up.get(stage.address)!.includes(other)) continue;
        up.get(stage.address)!.push(other);
        down.get(other)!.push(stage.address);
        edges.push([other, stage.address]);
      }
    }
  }

  const order = topologicalOrder(pipelines, stages, up);
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
    if (!byName.has(name)) throw unknownTarget(stages, name);
    return name;
  };

  return {
    pipelines,
    order,
    edges,
    upstream: (name, transitive = false) => sorted(transitive ? closure([known(name)], up) : up.get(known(name))!),
    downstream: (name, transitive = false) => sorted(transitive ? closure([known(name)], down) : down.get(known(name))!),
    select(targets, options = {}) {
      if (targets.length === 0) return [...order];
      const chosen = new Set(targets.flatMap((t) => resolveTarget(pipelines, t, options.cwdRel ?? '.')));
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
function outputIndex(stages: readonly Stage[]): (path: string) => string[] {
  const position = new Map(stages.map((s, i) => [s.address, i]));
  const outs = stages.flatMap((s) => s.outs.map((o) => ({ rel: o.rel, stage: s.address })));
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

function topologicalOrder(pipelines: readonly Pipeline[], stages: readonly Stage[], up: Map<string, string[]>): Stage[] {
  const byName = new Map(stages.map((s) => [s.address, s]));
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
      const file = pipelines.find((p) => p.fileRel === first.file)!.file;
      throw new ConfigError(`dependency cycle: ${cycle.join(' -> ')}`, { file: displayPath(file), line: first.line, key: `stages.${first.name}` });
    }
    path.push(name);
    for (const dep of up.get(name)!) visit(dep);
    path.pop();
    done.add(name);
    order.push(byName.get(name)!);
  };
  for (const stage of stages) visit(stage.address);
  return order;
}

/**
 * A target names a stage of the current folder's pipeline file, a foreach/matrix group (`build` =
 * every `build@...`), `path/to/file.yaml:name` (relative to the current folder), or a pipeline file
 * itself (every stage of it).
 */
function resolveTarget(pipelines: readonly Pipeline[], target: string, cwdRel: string): string[] {
  const fileAt = (written: string) => {
    const root = pipelines[0]?.root;
    const rel = isAbsolute(written) && root ? relative(root, written).split(sep).join('/') : posix.normalize(posix.join(cwdRel, written));
    return pipelines.find((p) => p.fileRel === rel);
  };
  const colon = target.lastIndexOf(':');
  let pipeline: Pipeline | undefined;
  let name = target;
  if (colon > 0) {
    const written = target.slice(0, colon);
    pipeline = fileAt(written);
    if (!pipeline) throw new ConfigError(`no pipeline file '${written}' in the project`, { key: target });
    name = target.slice(colon + 1);
    if (!name) return pipeline.stages.map((s) => s.address);
  } else {
    const whole = fileAt(target);
    if (whole) return whole.stages.map((s) => s.address);
    // A bare name belongs to the current folder's pipeline file (each stage's address says which).
    pipeline = pipelines.find((p) => p.stages.some((s) => s.address === s.name));
    if (!pipeline) throw new ConfigError(`no pipeline file in this folder for stage '${target}' (name it as path/to/dvc.yaml:${target})`, { key: target });
  }
  const own = pipeline.stages;
  const exact = own.find((s) => s.name === name);
  if (exact) return [exact.address];
  const group = own.filter((s) => s.name.startsWith(`${name}@`)).map((s) => s.address);
  if (group.length) return group;
  throw unknownTarget(own, name, pipeline.file);
}

function unknownTarget(stages: readonly Stage[], name: string, file?: string): ConfigError {
  const names = stages.map((s) => s.name);
  const candidates = [...new Set([...names, ...names.map((n) => n.split('@')[0]!)])];
  const hint = didYouMean(name, candidates);
  return new ConfigError(`no stage named '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}`, { ...(file ? { file: displayPath(file) } : {}), key: name });
}
