// Printable views of a pipeline for `stages` and `dag`: JSON in the exact shape, plain text,
// Mermaid and Graphviz dot.
import type { StageGraph } from './graph.js';
import { cmdText, type Stage } from './model.js';

export interface StageJson {
  cmd: string;
  deps: string[];
  outs: string[];
  metrics: string[];
  plots: string[];
  params: string[];
  wdir: string;
}

/** `{"stages": {name: {cmd, deps, outs, metrics, plots, params, wdir}}}`, paths as written. */
export function stagesJson(stages: readonly Stage[]): { stages: Record<string, StageJson> } {
  return { stages: Object.fromEntries(stages.map((s) => [s.address, stageJson(s)])) };
}

function stageJson(stage: Stage): StageJson {
  const outs = (kind: string) => stage.outs.filter((o) => o.kind === kind).map((o) => o.path);
  return {
    cmd: cmdText(stage),
    deps: stage.deps.map((d) => d.path),
    outs: outs('outs'),
    metrics: outs('metrics'),
    plots: outs('plots'),
    params: stage.params.flatMap((p) => (p.keys === null ? [p.file] : p.keys.map((k) => `${p.file}:${k}`))),
    wdir: stage.wdir,
  };
}

/** A plain listing: each stage, then its non-empty fields indented. */
export function stagesText(stages: readonly Stage[]): string {
  return stages
    .map((stage) => {
      const json = stageJson(stage);
      const lines = [stage.desc ? `${stage.address}: ${stage.desc}` : stage.address, `  cmd: ${json.cmd}`];
      if (stage.wdir !== '.') lines.push(`  wdir: ${stage.wdir}`);
      for (const key of ['deps', 'params', 'outs', 'metrics', 'plots'] as const) {
        if (json[key].length) lines.push(`  ${key}: ${json[key].join(', ')}`);
      }
      if (stage.frozen) lines.push('  frozen');
      if (stage.alwaysChanged) lines.push('  always changed');
      return lines.join('\n');
    })
    .join('\n');
}

export interface DagView {
  stages: string[];
  edges: { from: string; to: string }[];
}

/** The graph restricted to `stages` (edges go from a stage to the stage that depends on it). */
export function dagView(graph: StageGraph, stages: readonly Stage[]): DagView {
  const names = new Set(stages.map((s) => s.address));
  return {
    stages: stages.map((s) => s.address),
    edges: graph.edges.filter(([a, b]) => names.has(a) && names.has(b)).map(([from, to]) => ({ from, to })),
  };
}

/** One line per stage in run order, with what it waits for. */
export function dagText(view: DagView): string {
  return view.stages
    .map((name) => {
      const from = view.edges.filter((e) => e.to === name).map((e) => e.from);
      return from.length ? `${name} <- ${from.join(', ')}` : name;
    })
    .join('\n');
}

export function dagMermaid(view: DagView): string {
  const id = new Map(view.stages.map((name, i) => [name, `node${i + 1}`]));
  return [
    'flowchart TD',
    ...view.stages.map((name) => `\t${id.get(name)}["${name.replaceAll('"', '#quot;')}"]`),
    ...view.edges.map((e) => `\t${id.get(e.from)}-->${id.get(e.to)}`),
  ].join('\n');
}

export function dagDot(view: DagView): string {
  const q = (name: string) => JSON.stringify(name);
  return ['strict digraph  {', ...view.stages.map((n) => `${q(n)};`), ...view.edges.map((e) => `${q(e.from)} -> ${q(e.to)};`), '}'].join('\n');
}
