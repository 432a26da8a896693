import { posix } from 'node:path';
import type { Pipeline } from '../pipeline/model.js';
import type { ChartResult, Series, Template } from './chart.js';
import { countPairs, parseRows, readData, type Row } from './data.js';
import { UsageError } from '../core/errors.js';

/** A plot as the pipeline file defines it: a data file path (or an id whose `y` names files) and DVC's props. */
export interface PlotDef {
  id: string;
  props: Readonly<Record<string, unknown>>;
}

/** Stage `plots:` outputs (their paths relative to the root), then the top-level `plots:` definitions. */
export function pipelinePlots(pipeline: Pipeline): PlotDef[] {
  return [
    ...pipeline.stages.flatMap((s) => s.outs.filter((o) => o.kind === 'plots').map((o) => ({ id: o.rel, props: o.plot ?? {} }))),
    ...topLevelPlots(pipeline),
  ];
}

/** Every path the pipeline declares: stage outputs of any kind, top-level metrics and plots. */
export function declaredPaths(pipeline: Pipeline): Set<string> {
  return new Set([...pipeline.stages.flatMap((s) => s.outs.map((o) => o.rel)), ...pipeline.metrics, ...topLevelPlots(pipeline).map((p) => p.id)]);
}

/**
 * Top-level definitions name files relative to their pipeline file's folder (as DVC); rebased on the
 * root here, ids and `{file: field}` keys alike, so a sub-folder's plots read the right files.
 */
function topLevelPlots(pipeline: Pipeline): PlotDef[] {
  const dir = posix.dirname(pipeline.fileRel);
  if (dir === '.') return [...pipeline.plots];
  const rebase = (v: unknown) => (isMapping(v) ? Object.fromEntries(Object.entries(v).map(([file, field]) => [posix.join(dir, file), field])) : v);
  return pipeline.plots.map(({ id, props }) => ({
    id: posix.join(dir, id),
    props: { ...props, ...('x' in props ? { x: rebase(props.x) } : {}), ...('y' in props ? { y: rebase(props.y) } : {}) },
  }));
}

const fieldList = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The data files a definition reads: the keys of a `{file: field}` y (or x), else its id. */
export function plotFiles(def: PlotDef): string[] {
  const { x, y } = def.props;
  if (isMapping(y)) return Object.keys(y);
  if (isMapping(x)) return Object.keys(x);
  return [def.id];
}

// DVC's template names (and `bar`, ours), by the kind of chart that draws them.
const TEMPLATES = new Map<string, Template>([
  ['simple', 'linear'], ['linear', 'linear'], ['confusion', 'confusion'], ['confusion_normalized', 'confusion'],
  ['scatter', 'scatter'], ['scatter_jitter', 'scatter'], ['smooth', 'linear'],
  ['bar_horizontal', 'bar'], ['bar_horizontal_sorted', 'bar'], ['bar', 'bar'],
]);

const templateName = (def: PlotDef) => String(def.props.template ?? 'linear');

/**
 * An unknown template is an error before anything is drawn, as in DVC (`Template 'pie' not found.`),
 * not a chart quietly left out.
 */
export function checkTemplates(defs: readonly PlotDef[]): void {
  for (const def of defs) {
    const name = templateName(def);
    if (!TEMPLATES.has(name)) {
      throw new UsageError(`plot '${def.id}': template '${name}' not found (templates: ${[...TEMPLATES.keys()].join(', ')})`);
    }
  }
}

/** Draws one definition: DVC's x/y (string, list or `{file: field}`), template, title and axis labels. */
export function definedChart(root: string, def: PlotDef): ChartResult {
  const { props } = def;
  const name = templateName(def);
  const fail = (reason: string): ChartResult => ({ skipped: `plot '${def.id}'`, reason });
  checkTemplates([def]);
  const template = TEMPLATES.get(name)!;

  const rowsOf = new Map<string, Row[]>();
  for (const file of plotFiles(def)) {
    const text = readData(root, file);
    if (text === null) return fail(`${file} not found`);
    rowsOf.set(file, parseRows(text, file));
  }
  // Per file: which field is x (undefined: the row index, DVC's `step`) and which fields are y.
  const xFor = (file: string) => (isMapping(props.x) ? fieldList(props.x[file] ?? Object.values(props.x)[0])[0] : fieldList(props.x)[0]);
  const yFor = (file: string, rows: Row[]) => {
    const listed = isMapping(props.y) ? fieldList(props.y[file]) : fieldList(props.y);
    if (listed.length) return listed;
    const last = Object.keys(rows[0] ?? {}).filter((k) => k !== xFor(file)).pop(); // DVC's default y: the last field
    return last ? [last] : [];
  };
  const multiFile = rowsOf.size > 1;
  const title = String(props.title ?? def.id);
  const source = [...rowsOf.keys()].join(', ');

  if (template === 'confusion') {
    const [file, rows] = [...rowsOf][0]!;
    const actual = xFor(file) ?? 'actual';
    const predicted = yFor(file, rows)[0] ?? 'predicted';
    const bad = [actual, predicted].find((f) => rows.length && !(f in rows[0]!));
    if (bad) return fail(`${file} has no field '${bad}'`);
    const { labels, counts } = countPairs(rows.map((r) => [String(r[actual]), String(r[predicted])] as const));
    // confusion_normalized: each actual class's row as fractions of that class.
    const shown = name === 'confusion_normalized' ? counts.map((row) => row.map((c) => c / (row.reduce((a, b) => a + b) || 1))) : counts;
    return {
      chart: { kind: 'confusion', title, xLabel: String(props.y_label ?? predicted), yLabel: String(props.x_label ?? actual), source, labels, counts: shown },
    };
  }

  const label = (field: string | undefined, file: string) =>
    String((field === xFor(file) ? props.x_label : props.y_label) ?? field ?? 'step');
  const series: Series[] = [];
  let axes: [string, string] | undefined; // bottom and left axis titles
  for (const [file, rows] of rowsOf) {
    const x = xFor(file);
    for (const y of yFor(file, rows)) {
      const bad = [x, y].find((f) => f !== undefined && rows.length > 0 && !(f in rows[0]!));
      if (bad) return fail(`${file} has no field '${bad}'`);
      // Bars are drawn horizontally, categories down the side: DVC's bar_horizontal puts the numbers in
      // x and the names in y, so the numeric field is the value whichever of x and y it is.
      const swap = template === 'bar' && x !== undefined && rows.every((r) => typeof r[x] === 'number') && !rows.every((r) => typeof r[y] === 'number');
      const [at, value] = swap ? [y, x!] : [x, y];
      const points = rows
        .map((r, i) => ({ x: at === undefined ? i : (r[at] as number | string), y: Number(r[value]) }))
        .filter((p) => Number.isFinite(p.y));
      if (name === 'bar_horizontal_sorted') points.sort((a, b) => b.y - a.y);
      series.push({ name: multiFile ? `${file}: ${value}` : value, points });
      axes ??= template === 'bar' ? [label(value, file), label(at, file)] : [label(x, file), label(y, file)];
    }
  }
  if (!axes || !series.some((s) => s.points.length)) return fail(`no numeric values to plot in ${source}`);
  const yTitle = series.length === 1 || template === 'bar' ? axes[1] : String(props.y_label ?? 'value');
  return { chart: { kind: template, title, xLabel: axes[0], yLabel: yTitle, source, series } };
}
