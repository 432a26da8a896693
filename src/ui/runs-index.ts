import { UsageError } from '../core/errors.js';
import { own } from '../core/flatten.js';
import { matches, parseFilter, type AttributeName, type RunFields } from '../tracking/filter.js';
import { isDead } from '../tracking/liveness.js';
import { parseOrderBy, sortRuns } from '../tracking/order-by.js';
import type { Run, SkippedRun, TrackingStore, ViewType } from '../tracking/store.js';
import { PARENT_RUN_TAG, STAGE_TAG } from '../tracking/tracked-run.js';

// The runs page's search. A store answers a search by reading the runs (10,000 run folders take
// seconds on a busy disk), so the server keeps each experiment's runs in memory once read and filters,
// sorts, groups and pages them there with the tracking domain's own grammar (parseFilter, matches,
// parseOrderBy, compareRuns): the same filters, orders and error messages as `runs list`. A store's
// reads may hold the event loop (the file store reads synchronously), so a copy is re-read in the
// background only when it is older than both `minAge` and 20 times its last read took: a 50 ms
// experiment is fresh within seconds, a 10,000-run one that takes seconds to read is not re-read
// under the user's clicks. `refresh` (the page's Refresh) waits for a fresh read.

/** A run as the page lists it. */
export interface RunRow {
  run_id: string;
  run_name: string;
  status: string;
  start_time: number;
  end_time: number | null;
  /** ms, or null while running. */
  duration: number | null;
  stage: string | null;
  parent: string | null;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  /** Nested runs (grid candidates) whose parent is this row, when they match the filter too. */
  children?: RunRow[];
}

export interface GroupRow {
  /** The param or tag value the group shares ('' for runs without it). */
  value: string;
  count: number;
  /** Per metric: mean and sample standard deviation over the group's runs that logged it. */
  metrics: Record<string, { mean: number; std: number; n: number }>;
  run_ids: string[];
}

export interface RunsQuery {
  experimentId: string;
  filter?: string;
  orderBy?: string[];
  offset?: number;
  limit?: number;
  view?: ViewType;
  /** `params.seed` or `tags.x`: group the matching runs by that key's value. */
  groupBy?: string;
  /** Nested runs as rows of their own instead of folded under their parent. */
  flat?: boolean;
  refresh?: boolean;
}

export interface RunsPage {
  /** Top-level rows matching (before paging). */
  total: number;
  /** Runs matching, nested ones included. */
  matched: number;
  offset: number;
  runs: RunRow[];
  groups?: GroupRow[];
  /** Every key of the experiment's runs, for the column chooser. */
  columns: { params: string[]; metrics: string[]; tags: string[] };
  skipped: SkippedRun[];
  /** When the runs were read from the store (ms since epoch). */
  read_at: number;
}

/** A Run as the filter grammar reads it (the store's runs, already whole). */
class RunView implements RunFields {
  constructor(readonly run: Run) {}
  metric(key: string) {
    return own(this.run.metrics, key);
  }
  param(key: string) {
    return own(this.run.params, key);
  }
  tag(key: string) {
    return own(this.run.tags, key);
  }
  attribute(name: AttributeName) {
    return this.run.info[name];
  }
  /** A Run carries no datasets (MLflow's run inputs): a `datasets.` clause matches none here. */
  datasets(): string[] {
    return [];
  }
}

interface Snapshot {
  /** How long the read took (ms). */
  readMs: number;
  runs: RunView[];
  /** The runs in each order asked for so far: a filter then keeps the order, so sorting is once per order. */
  sorted: Map<string, RunView[]>;
  rows: Map<string, RunRow>;
  columns: RunsPage['columns'];
  skipped: SkippedRun[];
  readAt: number;
}

const sortedKeys = (runs: readonly Run[], pick: (r: Run) => object) => [...new Set(runs.flatMap((r) => Object.keys(pick(r))))].sort();

function toRow(run: Run): RunRow {
  const { info } = run;
  return {
    run_id: info.run_id,
    run_name: info.run_name,
    status: isDead(run) ? 'DEAD' : info.status,
    start_time: info.start_time,
    end_time: info.end_time,
    duration: info.end_time === null ? null : info.end_time - info.start_time,
    stage: run.tags[STAGE_TAG] ?? null,
    parent: run.tags[PARENT_RUN_TAG] ?? null,
    params: run.params,
    metrics: run.metrics,
    tags: run.tags,
  };
}

export const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

export class RunsIndex {
  private readonly snapshots = new Map<string, { current?: Snapshot; loading?: Promise<Snapshot> }>();

  constructor(
    private readonly store: TrackingStore,
    private readonly minAge = 5_000,
  ) {}

  /** Reads an experiment's runs now (the server calls it at start for the default experiment). */
  warm(experimentId: string, view: ViewType = 'active'): Promise<unknown> {
    return this.snapshot(experimentId, view, true);
  }

  /** Forgets what was read, after a write through the server. */
  invalidate(): void {
    this.snapshots.clear();
  }

  private async snapshot(experimentId: string, view: ViewType, refresh: boolean): Promise<Snapshot> {
    const key = `${view}:${experimentId}`;
    let entry = this.snapshots.get(key);
    if (!entry) this.snapshots.set(key, (entry = {}));
    const load = () => {
      entry.loading ??= this.read(experimentId, view).then(
        (s) => ((entry.current = s), (entry.loading = undefined), s),
        (e) => ((entry.loading = undefined), Promise.reject(e)),
      );
      return entry.loading;
    };
    if (!entry.current || refresh) return load();
    const age = Date.now() - entry.current.readAt;
    if (age > Math.max(this.minAge, 20 * entry.current.readMs)) void load().catch(() => undefined);
    return entry.current;
  }

  private async read(experimentId: string, view: ViewType): Promise<Snapshot> {
    const start = Date.now();
    const { runs, skipped } = await this.store.searchRuns({ experimentIds: [experimentId], view, maxResults: Number.MAX_SAFE_INTEGER });
    const readAt = Date.now();
    return {
      readMs: readAt - start,
      runs: runs.map((r) => new RunView(r)),
      sorted: new Map(),
      rows: new Map(runs.map((r) => [r.info.run_id, toRow(r)])),
      columns: { params: sortedKeys(runs, (r) => r.params), metrics: sortedKeys(runs, (r) => r.metrics), tags: sortedKeys(runs, (r) => r.tags) },
      skipped,
      readAt,
    };
  }

  /** One page of runs; a malformed filter or order throws the UsageError `runs list` prints. */
  async search(query: RunsQuery): Promise<RunsPage> {
    // Parsed before anything is read, as `runs list` does: a bad filter fails fast.
    const filter = parseFilter(query.filter ?? '');
    const order = parseOrderBy(query.orderBy ?? []);
    const group = query.groupBy ? parseGroupKey(query.groupBy) : undefined;
    const snap = await this.snapshot(query.experimentId, query.view ?? 'active', Boolean(query.refresh));
    const orderKey = JSON.stringify(order);
    let sorted = snap.sorted.get(orderKey);
    if (!sorted) snap.sorted.set(orderKey, (sorted = sortRuns(snap.runs, order)));
    const rows = sorted.filter((r) => !filter || matches(filter, r)).map((r) => snap.rows.get(r.run.info.run_id)!);
    const offset = Math.max(0, query.offset ?? 0);
    const limit = Math.min(MAX_PAGE, Math.max(1, query.limit ?? DEFAULT_PAGE));
    const { top, children } = query.flat ? { top: rows, children: undefined } : nest(rows);
    return {
      total: top.length,
      matched: rows.length,
      offset,
      runs: top.slice(offset, offset + limit).map((r) => (children ? { ...r, children: children.get(r.run_id) ?? [] } : r)),
      ...(group ? { groups: groupRows(rows, group) } : {}),
      columns: snap.columns,
      skipped: snap.skipped,
      read_at: snap.readAt,
    };
  }
}

/**
 * Rows whose parent matched too go under it (in the listing's order); the others stay top-level. Only
 * the page's rows are copied with their children, not every match.
 */
function nest(rows: readonly RunRow[]): { top: RunRow[]; children: Map<string, RunRow[]> } {
  const listed = new Set(rows.map((r) => r.run_id));
  const top: RunRow[] = [];
  const children = new Map<string, RunRow[]>();
  for (const row of rows) {
    if (row.parent === null || row.parent === row.run_id || !listed.has(row.parent)) top.push(row);
    else if (children.has(row.parent)) children.get(row.parent)!.push(row);
    else children.set(row.parent, [row]);
  }
  return { top, children };
}

function parseGroupKey(key: string): { kind: 'params' | 'tags'; key: string } {
  const m = /^(params|param|tags|tag)\.(.+)$/.exec(key.trim());
  if (!m) throw new UsageError(`invalid group key '${key}': expected params.<key> or tags.<key>`);
  return { kind: m[1]!.startsWith('param') ? 'params' : 'tags', key: m[2]! };
}

/** Mean and sample standard deviation (n - 1; 0 for a single run) of each metric per group. */
function groupRows(rows: readonly RunRow[], by: { kind: 'params' | 'tags'; key: string }): GroupRow[] {
  const groups = new Map<string, RunRow[]>();
  for (const row of rows) {
    const value = own(row[by.kind], by.key) ?? '';
    groups.set(value, [...(groups.get(value) ?? []), row]);
  }
  return [...groups].map(([value, members]) => {
    const metrics: GroupRow['metrics'] = {};
    for (const key of new Set(members.flatMap((m) => Object.keys(m.metrics)))) {
      const values = members.map((m) => own(m.metrics, key)).filter((v): v is number => v !== undefined && Number.isFinite(v));
      if (!values.length) continue;
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : 0;
      metrics[key] = { mean, std, n: values.length };
    }
    return { value, count: members.length, metrics, run_ids: members.map((m) => m.run_id) };
  }).sort((a, b) => a.value.localeCompare(b.value, undefined, { numeric: true }));
}
