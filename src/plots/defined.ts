import { posix } from 'node:path';
import type { Pipeline } from '../pipeline/model.js';
import type { ChartResult } from './chart.js';
import { parseRows, readData, type DataSource, type Row } from './data.js';
import { fillTemplate, loadTemplate } from './templates.js';

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

const templateName = (def: PlotDef) => String(def.props.template ?? 'linear');

/**
 * An unknown template is an error before anything is drawn, as in DVC (`Template 'pie' not found.`),
 * not a chart quietly left out.
 */
export function checkTemplates(root: string, defs: readonly PlotDef[]): void {
  for (const def of defs) loadTemplate(root, templateName(def), def.id);
}

/**
 * Draws one definition with its template: DVC's x/y (string, list or `{file: field}`), title and axis
 * labels. Each file and y field is a series, named in the rows' `rev` field, which templates colour by.
 */
export async function definedChart(source: DataSource, def: PlotDef): Promise<ChartResult> {
  const { props } = def;
  const fail = (reason: string): ChartResult => ({ skipped: `plot '${def.id}'`, reason });
  const template = loadTemplate(source.root, templateName(def), def.id);

  const rowsOf = new Map<string, Row[]>();
  for (const file of plotFiles(def)) {
    const text = await readData(source, file);
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
  const series: { file: string; x: string | undefined; y: string; rows: Row[] }[] = [];
  for (const [file, rows] of rowsOf) {
    const x = xFor(file);
    for (const y of yFor(file, rows)) {
      const bad = [x, y].find((f) => f !== undefined && rows.length > 0 && !(f in rows[0]!));
      if (bad) return fail(`${file} has no field '${bad}'`);
      series.push({ file, x, y, rows });
    }
  }
  const files = [...rowsOf.keys()].join(', ');
  if (!series.length || !series.some((s) => s.rows.length)) return fail(`no values to plot in ${files}`);
  // One x and one y field for the template: the shared name when every series has it, else a common one.
  const shared = (names: (string | undefined)[], fallback: string) => (new Set(names).size === 1 && names[0] !== undefined ? names[0] : fallback);
  const X = shared(series.map((s) => s.x), 'step');
  const Y = shared(series.map((s) => s.y), String(props.y_label ?? 'value'));
  const multiFile = rowsOf.size > 1;
  const data = series.flatMap((s) => s.rows.map((r, i) => ({
    ...r,
    [X]: s.x === undefined ? i : r[s.x],
    [Y]: r[s.y],
    rev: series.length === 1 ? source.tree.label : multiFile ? `${s.file}: ${s.y}` : s.y,
  })));
  const spec = fillTemplate(template, {
    data,
    title: String(props.title ?? def.id),
    x: X,
    y: Y,
    xLabel: String(props.x_label ?? X),
    yLabel: String(props.y_label ?? Y),
  });
  return { chart: { title: String(props.title ?? def.id), source: files, spec } };
}
