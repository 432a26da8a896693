import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, UsageError } from '../core/errors.js';

// Plot templates in DVC's format: a Vega-Lite spec whose strings may be anchors, replaced when a plot
// is drawn. `"<DVC_METRIC_DATA>"` becomes the rows (each with a `rev` field naming its series), the
// others the plot's fields and titles. The built-in ones are written here; a project's own go in
// `.dvc/plots/<name>.json` (as in DVC) or `.mlops/plots/<name>.json` and take precedence.

export const ANCHORS = {
  data: '<DVC_METRIC_DATA>',
  title: '<DVC_METRIC_TITLE>',
  x: '<DVC_METRIC_X>',
  y: '<DVC_METRIC_Y>',
  xLabel: '<DVC_METRIC_X_LABEL>',
  yLabel: '<DVC_METRIC_Y_LABEL>',
  width: '<DVC_METRIC_PLOT_WIDTH>',
  height: '<DVC_METRIC_PLOT_HEIGHT>',
} as const;

export type Spec = Record<string, unknown>;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const A = ANCHORS;
const base = { $schema: SCHEMA, data: { values: A.data }, title: A.title, width: A.width, height: A.height };
const xq = { field: A.x, type: 'quantitative', title: A.xLabel };
const yq = { field: A.y, type: 'quantitative', title: A.yLabel, scale: { zero: false } };
const series = { field: 'rev', type: 'nominal', title: null };
const tooltip = [{ field: 'rev', title: 'series' }, { field: A.x, title: A.xLabel }, { field: A.y, title: A.yLabel }];

const line = { ...base, mark: { type: 'line', point: true, tooltip: true }, encoding: { x: xq, y: yq, color: series, tooltip } };
const scatter = { ...base, mark: { type: 'point', filled: true, tooltip: true }, encoding: { x: xq, y: yq, color: series, shape: series, tooltip } };
const confusion = (normalized: boolean) => ({
  ...base,
  transform: [
    { aggregate: [{ op: 'count', as: 'count' }], groupby: ['rev', A.x, A.y] },
    ...(normalized
      ? [{ joinaggregate: [{ op: 'sum', field: 'count', as: 'class_total' }], groupby: ['rev', A.x] }, { calculate: 'datum.count / datum.class_total', as: 'count' }]
      : []),
  ],
  encoding: {
    x: { field: A.y, type: 'nominal', title: A.yLabel, sort: 'ascending' },
    y: { field: A.x, type: 'nominal', title: A.xLabel, sort: 'ascending' },
  },
  layer: [
    { mark: { type: 'rect', tooltip: true }, encoding: { color: { field: 'count', type: 'quantitative', title: normalized ? 'share' : 'count', scale: { scheme: 'blues' } } } },
    {
      mark: { type: 'text', baseline: 'middle' },
      encoding: {
        text: { field: 'count', type: 'quantitative', format: normalized ? '.2f' : 'd' },
        color: { condition: { test: 'datum.count >= 0.6 * datum.max_count', value: 'white' }, value: 'black' },
      },
      transform: [{ joinaggregate: [{ op: 'max', field: 'count', as: 'max_count' }] }],
    },
  ],
});
const barH = (sorted: boolean) => ({
  ...base,
  mark: { type: 'bar', tooltip: true },
  encoding: {
    x: { field: A.x, type: 'quantitative', title: A.xLabel },
    y: { field: A.y, type: 'nominal', title: A.yLabel, sort: sorted ? '-x' : null },
    yOffset: { field: 'rev' },
    color: series,
  },
});
const smooth = {
  ...base,
  layer: [
    { mark: { type: 'point', opacity: 0.3 }, encoding: { x: xq, y: yq, color: series } },
    { mark: { type: 'line' }, transform: [{ loess: A.y, on: A.x, groupby: ['rev'], bandwidth: 0.3 }], encoding: { x: xq, y: yq, color: series } },
  ],
};

const strip = (spec: Record<string, unknown>) => JSON.parse(JSON.stringify(spec)) as Spec; // drops the undefined keys

export const BUILTIN_TEMPLATES: Readonly<Record<string, Spec>> = {
  simple: strip(line),
  linear: strip(line),
  confusion: strip(confusion(false)),
  confusion_normalized: strip(confusion(true)),
  scatter: strip(scatter),
  scatter_jitter: strip({ ...scatter, transform: [{ calculate: 'random() - 0.5', as: 'jitter' }], encoding: { ...scatter.encoding, xOffset: { field: 'jitter', type: 'quantitative' } } }),
  smooth: strip(smooth),
  bar_horizontal: strip(barH(false)),
  bar_horizontal_sorted: strip(barH(true)),
  // Ours (DVC has none by this name): categories along x, values up.
  bar: strip({ ...base, mark: { type: 'bar', tooltip: true }, encoding: { x: { field: A.x, type: 'nominal', title: A.xLabel }, y: { field: A.y, type: 'quantitative', title: A.yLabel }, xOffset: { field: 'rev' }, color: series } }),
};

/** Where a project keeps its own templates, in the order they are looked for. */
const CUSTOM_DIRS = ['.mlops/plots', '.dvc/plots'];
const TEMPLATE_NAME = /^[\w.-]+$/;

/** Built-in and custom template names, for the error about an unknown one. */
export function templateNames(root: string): string[] {
  const custom = CUSTOM_DIRS.flatMap((dir) => {
    try {
      return (existsSync(join(root, dir)) ? readdirSync(join(root, dir)) : []).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    } catch {
      return [];
    }
  });
  return [...new Set([...Object.keys(BUILTIN_TEMPLATES), ...custom])];
}


/** A template by name: the project's own file first, then the built-in one; UsageError when neither. */
export function loadTemplate(root: string, name: string, plotId: string): Spec {
  if (TEMPLATE_NAME.test(name)) {
    for (const dir of CUSTOM_DIRS) {
      const file = join(root, dir, `${name}.json`);
      if (!existsSync(file)) continue;
      let spec: unknown;
      try {
        spec = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        throw new ConfigError(`invalid JSON: ${(error as Error).message}`, { file: `${dir}/${name}.json` });
      }
      if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new ConfigError('expected a Vega-Lite spec (a JSON object)', { file: `${dir}/${name}.json` });
      return spec as Spec;
    }
  }
  const builtin = BUILTIN_TEMPLATES[name];
  if (builtin) return builtin;
  throw new UsageError(`plot '${plotId}': template '${name}' not found (templates: ${templateNames(root).join(', ')})`);
}

// In a Vega-Lite field, `.` and `[` reach into nested objects: a column named `a.b` is written `a\.b`.
const fieldRef = (name: string) => name.replace(/[.[\]\\]/g, '\\$&');

export interface AnchorValues {
  data: readonly Record<string, unknown>[];
  title: string;
  x: string;
  y: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

/**
 * The template with its anchors filled: a string that is exactly an anchor becomes the value (the data
 * rows, a number for the size); an anchor inside a longer string is replaced as text.
 */
export function fillTemplate(template: Spec, values: AnchorValues): Spec {
  const exact = new Map<string, unknown>([
    [A.data, values.data], [A.title, values.title], [A.x, fieldRef(values.x)], [A.y, fieldRef(values.y)], [A.xLabel, values.xLabel], [A.yLabel, values.yLabel],
    [A.width, values.width ?? 420], [A.height, values.height ?? 260],
  ]);
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      if (exact.has(node)) return exact.get(node);
      return node.replace(/<DVC_METRIC_[A-Z_]+>/g, (m) => {
        const v = exact.get(m);
        return typeof v === 'string' || typeof v === 'number' ? String(v) : m;
      });
    }
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    return node;
  };
  return walk(template) as Spec;
}
