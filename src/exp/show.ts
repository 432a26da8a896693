import { UsageError } from '../core/errors.js';
import type { Project } from '../project/project.js';
import { paramText } from '../tracking/tracked-run.js';
import { EXPERIMENT_KIND, EXPERIMENT_TAG, OVERRIDES_TAG, workspaceValues } from './record.js';

/** One row of `exp show`: the workspace first, then each recorded experiment, newest first. */
export interface ExpRow {
  readonly name: string;
  readonly run_id: string | null;
  readonly created: string | null;
  readonly status: string;
  readonly overrides: string;
  readonly params: Record<string, unknown>;
  readonly metrics: Record<string, number>;
}

export async function experimentRows(project: Project, file?: string): Promise<ExpRow[]> {
  const workspace = await workspaceValues(project.root, file);
  // Params as the recorded runs hold them (MLflow's text form), so equal values compare equal.
  const params = Object.fromEntries(Object.entries(workspace.params).map(([k, v]) => [k, paramText(v)]));
  const rows: ExpRow[] = [{ name: 'workspace', run_id: null, created: null, status: '', overrides: '', params, metrics: workspace.metrics }];
  const tracking = await project.tracking();
  const experiment = await tracking.store.getExperimentByName(tracking.experiment);
  if (!experiment) return rows;
  const { runs } = await tracking.store.searchRuns({
    experimentIds: [experiment.experiment_id],
    filter: `tags.\`${EXPERIMENT_TAG}\` = '${EXPERIMENT_KIND}'`,
    orderBy: ['attributes.start_time DESC'],
  });
  for (const run of runs) {
    rows.push({
      name: run.info.run_name,
      run_id: run.info.run_id,
      created: new Date(run.info.start_time).toISOString().replace('T', ' ').slice(0, 19),
      status: run.info.status,
      overrides: run.tags[OVERRIDES_TAG] ?? '',
      params: run.params,
      metrics: run.metrics,
    });
  }
  return rows;
}

export interface TableOptions {
  /** Only the params and metrics columns whose values differ between rows. */
  readonly onlyChanged?: boolean;
  /** A metric or param key; rows are sorted by it (the workspace row stays first). */
  readonly sortBy?: string;
  readonly sortOrder?: 'asc' | 'desc';
  readonly precision?: number;
}

/** The rows as a table: Experiment, Created, then metric columns, then param columns. */
export function expTable(rows: readonly ExpRow[], options: TableOptions = {}): { header: string[]; rows: string[][] } {
  const metricKeys = columns(rows, (r) => r.metrics, options.onlyChanged);
  const paramKeys = columns(rows, (r) => r.params, options.onlyChanged);
  const sorted = sortRows(rows, options, [...metricKeys, ...paramKeys]);
  const cell = (v: unknown) => format(v, options.precision ?? 5);
  return {
    header: ['Experiment', 'Created', ...metricKeys, ...paramKeys],
    rows: sorted.map((r) => [r.name, r.created ?? '-', ...metricKeys.map((k) => cell(r.metrics[k])), ...paramKeys.map((k) => cell(r.params[k]))]),
  };
}

function columns(rows: readonly ExpRow[], pick: (r: ExpRow) => Record<string, unknown>, onlyChanged = false): string[] {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(pick(r))))].sort();
  if (!onlyChanged) return keys;
  return keys.filter((k) => new Set(rows.map((r) => String(pick(r)[k]))).size > 1);
}

function sortRows(rows: readonly ExpRow[], options: TableOptions, known: readonly string[]): readonly ExpRow[] {
  const key = options.sortBy;
  if (!key) return rows;
  if (!rows.some((r) => key in r.metrics || key in r.params)) {
    throw new UsageError(`--sort-by: no metric or param '${key}'${known.length ? ` (columns: ${known.slice(0, 8).join(', ')}${known.length > 8 ? ', ...' : ''})` : ''}`);
  }
  const value = (r: ExpRow) => numeric(r.metrics[key] ?? r.params[key]);
  const sign = options.sortOrder === 'desc' ? -1 : 1;
  const [workspace, ...rest] = rows;
  // Rows without the key go last whatever the order, as DVC does.
  const ordered = [...rest].sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : 1) : -1;
    return typeof x === 'number' && typeof y === 'number' ? sign * (x - y) : sign * String(x).localeCompare(String(y));
  });
  return [workspace!, ...ordered];
}

// MLflow stores params as text: compare "0.5" and "10" as numbers.
function numeric(v: unknown): number | string | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) && String(v).trim() !== '' ? n : String(v);
}

function format(v: unknown, precision: number): string {
  if (v === undefined || v === null) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(precision)));
  return typeof v === 'string' ? v : JSON.stringify(v);
}
