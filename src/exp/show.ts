import { UsageError } from '../core/errors.js';
import { own } from '../core/flatten.js';
import { baselineReaders } from '../metrics/tree.js';
import { loadPipeline } from '../pipeline/load.js';
import type { Project } from '../project/project.js';
import { GIT_COMMIT_TAG } from '../tracking/git-tags.js';
import { isDead } from '../tracking/liveness.js';
import type { RunStatus } from '../tracking/store.js';
import { paramText } from '../tracking/tracked-run.js';
import { DEFAULT_PARAMS_FILE } from '../params/params.js';
import { parseOverride } from './overrides.js';
import { OVERRIDES_TAG, treeValues } from './record.js';
import { experimentRuns } from './runs.js';

/** One row of `exp show`: the workspace, then each baseline commit followed by its experiments. */
export interface ExpRow {
  readonly name: string;
  readonly kind: 'workspace' | 'baseline' | 'experiment';
  readonly run_id: string | null;
  /** The commit a baseline is, or an experiment was run on (short hash); null outside git. */
  readonly rev: string | null;
  readonly created: string | null;
  /**
   * DVC's words: Success, Failed, Running, Queued; Dead for a Running one whose process is gone
   * (killed, crashed: it will never end; `mlops runs close` ends it). Null for the workspace and baselines.
   */
  readonly state: string | null;
  readonly overrides: string;
  readonly params: Record<string, unknown>;
  readonly metrics: Record<string, number>;
}

const STATES: Record<RunStatus, string> = { FINISHED: 'Success', FAILED: 'Failed', KILLED: 'Failed', RUNNING: 'Running', SCHEDULED: 'Queued' };

const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/**
 * The rows DVC's `exp show` gives: the workspace, the baseline (HEAD; every commit of the branch with
 * `allCommits`) and under each baseline the experiments run on it, newest first. Experiments recorded
 * outside git belong to no commit and are always listed; `allCommits` also lists those of commits
 * not on the branch, last.
 */
export async function experimentRows(project: Project, options: { file?: string; allCommits?: boolean } = {}): Promise<ExpRow[]> {
  const { root } = project;
  const pipeline = loadPipeline(root, options.file);
  const asText = (values: { params: Record<string, unknown>; metrics: Record<string, number> }) => ({
    // Params as the recorded runs hold them (MLflow's text form), so equal values compare equal.
    params: Object.fromEntries(Object.entries(values.params).map(([k, v]) => [k, paramText(v)])),
    metrics: values.metrics,
  });
  const rows: ExpRow[] = [
    { name: 'workspace', kind: 'workspace', run_id: null, rev: null, created: null, state: null, overrides: '', ...asText(await treeValues(pipeline)) },
  ];
  const runs = await experimentRuns(project);
  const byCommit = new Map<string, ExpRow[]>();
  const add = (commit: string, row: ExpRow) => byCommit.set(commit, [...(byCommit.get(commit) ?? []), row]);
  // Queued experiments not recorded yet come first under their commit: they are the newest.
  const { QUEUE_JOB_TAG, queuedExperimentRows } = await import('../queue/experiments.js');
  for (const q of await queuedExperimentRows(project, new Set(runs.map((r) => r.tags[QUEUE_JOB_TAG] ?? '')))) {
    const params = Object.fromEntries(q.overrides.map(parseOverride).map((o) => [o.file === DEFAULT_PARAMS_FILE ? o.key : `${o.file}/${o.key}`, paramText(o.value)]));
    add(q.commit, { name: q.name, kind: 'experiment', run_id: null, rev: q.commit.slice(0, 7), created: stamp(q.created), state: q.state, overrides: q.overrides.join(' '), params, metrics: {} });
  }
  const experimentRow = (run: (typeof runs)[number]): ExpRow => ({
    name: run.info.run_name,
    kind: 'experiment',
    run_id: run.info.run_id,
    rev: run.tags[GIT_COMMIT_TAG]?.slice(0, 7) ?? null,
    created: stamp(run.info.start_time),
    state: isDead(run) ? 'Dead' : (STATES[run.info.status] ?? run.info.status),
    overrides: run.tags[OVERRIDES_TAG] ?? '',
    params: run.params,
    metrics: run.metrics,
  });
  for (const run of runs) add(run.tags[GIT_COMMIT_TAG] ?? '', experimentRow(run));
  for (const tree of await baselineReaders(root, Boolean(options.allCommits))) {
    const values = asText(await treeValues(pipeline, tree));
    rows.push({ name: tree.label, kind: 'baseline', run_id: null, rev: tree.commit!.slice(0, 7), created: tree.date ? stamp(Date.parse(tree.date)) : null, state: null, overrides: '', ...values });
    rows.push(...(byCommit.get(tree.commit!) ?? []));
    byCommit.delete(tree.commit!);
  }
  rows.push(...(byCommit.get('') ?? []));
  byCommit.delete('');
  if (options.allCommits) for (const group of byCommit.values()) rows.push(...group);
  return rows;
}

export interface TableOptions {
  /** Only the params and metrics columns whose values differ between rows. */
  readonly onlyChanged?: boolean;
  /** Regular expressions on column names: `drop` hides the matching columns, `keep` shows them whatever else says. */
  readonly drop?: string;
  readonly keep?: string;
  /** A metric or param key; experiments are sorted by it under their baseline. */
  readonly sortBy?: string;
  readonly sortOrder?: 'asc' | 'desc';
  readonly precision?: number;
  /** `-` for a missing value in text tables; CSV leaves it empty. */
  readonly missing?: string;
  /** DVC's tree glyphs before experiments' names (text and markdown tables). */
  readonly tree?: boolean;
}

const FIXED = ['Experiment', 'Created', 'State'];

/** The rows as a table: Experiment, Created, State, then metric columns, then param columns. */
export function expTable(rows: readonly ExpRow[], options: TableOptions = {}): { header: string[]; rows: string[][] } {
  const [drop, keep] = [regex('--drop', options.drop), regex('--keep', options.keep)];
  const shown = (name: string, changed: boolean) => Boolean(keep?.test(name)) || (changed && !drop?.test(name));
  const metricKeys = columns(rows, (r) => r.metrics, options.onlyChanged).filter(([k, changed]) => shown(k, changed)).map(([k]) => k);
  const paramKeys = columns(rows, (r) => r.params, options.onlyChanged).filter(([k, changed]) => shown(k, changed)).map(([k]) => k);
  const fixed = FIXED.filter((c) => c === 'Experiment' || shown(c, true));
  const sorted = sortRows(rows, options);
  const missing = options.missing ?? '-';
  const cell = (v: unknown) => (v === undefined || v === null ? missing : format(v, options.precision ?? 5));
  const names = options.tree ? treeNames(sorted) : sorted.map((r) => r.name);
  const fixedCell = (r: ExpRow, i: number, c: string) => (c === 'Experiment' ? names[i]! : cell(c === 'Created' ? r.created : r.state));
  return {
    header: [...fixed, ...metricKeys, ...paramKeys],
    rows: sorted.map((r, i) => [
      ...fixed.map((c) => fixedCell(r, i, c)),
      ...metricKeys.map((k) => cell(own(r.metrics, k))),
      ...paramKeys.map((k) => cell(own(r.params, k))),
    ]),
  };
}

function regex(flag: string, source: string | undefined): RegExp | undefined {
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (error) {
    throw new UsageError(`${flag}: not a regular expression: ${(error as Error).message}`);
  }
}

/** Every key, sorted, with whether its values differ between rows (always true unless `onlyChanged`). */
function columns(rows: readonly ExpRow[], pick: (r: ExpRow) => Record<string, unknown>, onlyChanged = false): [string, boolean][] {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(pick(r))))].sort();
  return keys.map((k) => [k, !onlyChanged || new Set(rows.map((r) => String(own(pick(r), k)))).size > 1]);
}

/** `├── name` / `└── name` under each baseline, as DVC draws them. */
function treeNames(rows: readonly ExpRow[]): string[] {
  return rows.map((r, i) => {
    if (r.kind !== 'experiment' || !rows.slice(0, i).some((p) => p.kind === 'baseline')) return r.name;
    return `${rows[i + 1]?.kind === 'experiment' ? '├──' : '└──'} ${r.name}`;
  });
}

/** Experiments sorted by `sortBy` within each group (between baselines); workspace and baselines stay put. */
function sortRows(rows: readonly ExpRow[], options: TableOptions): readonly ExpRow[] {
  const key = options.sortBy;
  if (!key) return rows;
  if (!rows.some((r) => Object.hasOwn(r.metrics, key) || Object.hasOwn(r.params, key))) {
    const known = [...new Set(rows.flatMap((r) => [...Object.keys(r.metrics), ...Object.keys(r.params)]))].sort();
    throw new UsageError(`--sort-by: no metric or param '${key}'${known.length ? ` (columns: ${known.slice(0, 8).join(', ')}${known.length > 8 ? ', ...' : ''})` : ''}`);
  }
  const value = (r: ExpRow) => numeric(own(r.metrics, key) ?? own(r.params, key));
  const sign = options.sortOrder === 'desc' ? -1 : 1;
  // Rows without the key go last whatever the order, as DVC does.
  const compare = (a: ExpRow, b: ExpRow) => {
    const [x, y] = [value(a), value(b)];
    if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : 1) : -1;
    return typeof x === 'number' && typeof y === 'number' ? sign * (x - y) : sign * String(x).localeCompare(String(y));
  };
  const out: ExpRow[] = [];
  let group: ExpRow[] = [];
  const flush = () => out.push(...group.sort(compare).splice(0));
  for (const row of rows) {
    if (row.kind === 'experiment') group.push(row);
    else {
      flush();
      out.push(row);
    }
  }
  flush();
  return out;
}

// MLflow stores params as text: compare "0.5" and "10" as numbers.
function numeric(v: unknown): number | string | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) && String(v).trim() !== '' ? n : String(v);
}

function format(v: unknown, precision: number): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(precision)));
  return typeof v === 'string' ? v : JSON.stringify(v);
}
