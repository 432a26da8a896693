import { NotFoundError, UsageError } from '../core/errors.js';
import { own } from '../core/flatten.js';
import { matches, parseFilter, type AttributeName, type RunFields } from '../tracking/filter.js';
import { isDead } from '../tracking/liveness.js';
import { parseOrderBy, sortRuns } from '../tracking/order-by.js';
import { StoreFileError } from '../tracking/run-files.js';
import type { Run, SkippedRun, TrackingStore, ViewType } from '../tracking/store.js';
import { PARENT_RUN_TAG, STAGE_TAG } from '../tracking/tracked-run.js';

// The runs page's search. A store answers a search by reading the runs (10,000 run folders take
// seconds on a busy disk), so the server keeps each experiment's runs in memory once read and filters,
// sorts, groups and pages them there with the tracking domain's own grammar (parseFilter, matches,
// parseOrderBy, sortRuns): the same filters, orders and error messages as `runs list`. Each order is
// sorted once and each filter evaluated once per copy (a click then only walks two arrays).
//
// The copy is kept fresh without reading it again: after a search, at most every few seconds, the
// store's runVersions (a stat per run folder, or one read of the runs table) is compared with the
// versions the copy was read at, in the background, and only the runs that changed, appeared or are
// still running are read again. A store without runVersions is read again whole, in the background,
// when the copy is older than both `minAge` and 20 times its last read took. `refresh` (the page's
// Refresh) waits for a whole fresh read.

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
  constructor(
    readonly run: Run,
    /** Its place in the copy, where the filters' results and the rows are kept. */
    readonly index: number,
  ) {}
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
  runs: RunView[];
  /** The listed row of each run, by RunView.index. */
  rows: RunRow[];
  /** The runs in each order asked for so far: a filter then keeps the order, so sorting is once per order. */
  sorted: Map<string, RunView[]>;
  /** Each filter's result so far, a flag per RunView.index. */
  matching: Map<string, Uint8Array>;
  columns: RunsPage['columns'];
  skipped: SkippedRun[];
  /** The store's runVersions when the runs were read (the store has them). */
  versions?: Map<string, string>;
  readAt: number;
}

interface Entry {
  current?: Snapshot;
  /** A whole read under way. */
  loading?: Promise<Snapshot>;
  /** How long the last whole read took (ms). */
  readMs: number;
  /** A check of the versions under way, when the last one ended and how long it took (ms). */
  checking?: Promise<void>;
  checkedAt: number;
  checkMs: number;
}

/** Orders and filters remembered per copy: enough for a session's clicks, bounded for a long one. */
const REMEMBERED = 32;
/** Running runs read again at each check (their metrics grow without a new version). */
const MAX_LIVE = 200;

function remember<T>(cache: Map<string, T>, key: string, value: T): T {
  if (cache.size >= REMEMBERED) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
  return value;
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

function snapshot(runs: readonly Run[], skipped: SkippedRun[], versions: Map<string, string> | undefined, readAt: number): Snapshot {
  return {
    runs: runs.map((r, i) => new RunView(r, i)),
    rows: runs.map(toRow),
    sorted: new Map(),
    matching: new Map(),
    columns: { params: sortedKeys(runs, (r) => r.params), metrics: sortedKeys(runs, (r) => r.metrics), tags: sortedKeys(runs, (r) => r.tags) },
    skipped,
    versions,
    readAt,
  };
}

export interface RunsIndexOptions {
  /** A store without runVersions is read again in the background when its copy is older than this (ms). */
  minAge?: number;
  /** The versions are compared at most this often (ms); by default every 2 s, and 20 times less often than a check takes. */
  checkEvery?: number;
}

export class RunsIndex {
  private readonly entries = new Map<string, Entry>();
  private readonly minAge: number;
  private readonly checkEvery?: number;

  constructor(
    private readonly store: TrackingStore,
    options: RunsIndexOptions = {},
  ) {
    this.minAge = options.minAge ?? 5_000;
    this.checkEvery = options.checkEvery;
  }

  /** Reads an experiment's runs now (the server calls it at start for the default experiment). */
  warm(experimentId: string, view: ViewType = 'active'): Promise<unknown> {
    return this.snapshot(experimentId, view, true);
  }

  /** Resolves once the checks and reads started so far have ended (for tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.entries.values()].flatMap((e) => [e.checking, e.loading?.catch(() => undefined)]));
  }

  private async snapshot(experimentId: string, view: ViewType, refresh: boolean): Promise<Snapshot> {
    const key = `${view}:${experimentId}`;
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { readMs: 0, checkedAt: 0, checkMs: 0 }));
    const current = entry.current;
    if (!current || refresh) return this.load(entry, experimentId, view);
    const now = Date.now();
    if (!this.store.runVersions) {
      if (now - current.readAt > Math.max(this.minAge, 20 * entry.readMs)) void this.load(entry, experimentId, view).catch(() => undefined);
    } else if (!entry.loading && !entry.checking && now - entry.checkedAt >= (this.checkEvery ?? Math.max(2_000, 20 * entry.checkMs))) {
      // A failed check leaves the copy as it is; the next one tries again.
      entry.checking = this.check(entry, current, experimentId, view)
        .catch(() => undefined)
        .finally(() => ((entry.checking = undefined), (entry.checkedAt = Date.now())));
    }
    return current;
  }

  /** A whole read, shared by the requests that wait for it. */
  private load(entry: Entry, experimentId: string, view: ViewType): Promise<Snapshot> {
    entry.loading ??= (async () => {
      const start = Date.now();
      // The versions before the runs: a run written during the read is read again at the next check.
      const versions = await this.store.runVersions?.(experimentId);
      const { runs, skipped } = await this.store.searchRuns({ experimentIds: [experimentId], view, maxResults: Number.MAX_SAFE_INTEGER });
      const readAt = Date.now();
      entry.readMs = readAt - start;
      entry.checkedAt = readAt;
      return (entry.current = snapshot(runs, skipped, versions, readAt));
    })().finally(() => (entry.loading = undefined));
    return entry.loading;
  }

  /** Reads again the runs whose version changed, the new ones and the running ones; drops the removed. */
  private async check(entry: Entry, current: Snapshot, experimentId: string, view: ViewType): Promise<void> {
    const start = Date.now();
    const versions = await this.store.runVersions!(experimentId);
    entry.checkMs = Date.now() - start;
    const known = current.versions ?? new Map<string, string>();
    const stale = new Set([...versions].filter(([id, version]) => known.get(id) !== version).map(([id]) => id));
    const running = current.runs.filter((r) => current.rows[r.index]!.status === 'RUNNING' && versions.has(r.run.info.run_id));
    for (const r of running.slice(0, MAX_LIVE)) stale.add(r.run.info.run_id);
    const removed = [...known.keys()].filter((id) => !versions.has(id));
    if (!stale.size && !removed.length) return;
    // Most of the experiment changed (a restore, another store's copy): one search reads it faster.
    if (stale.size > Math.max(1000, versions.size / 4)) {
      if (entry.current === current) await this.load(entry, experimentId, view);
      return;
    }
    const readAgain = await Promise.all([...stale].map((id) => this.store.getRun(id).then(
      (run): Run | SkippedRun | undefined => run,
      (error: unknown) => {
        if (error instanceof StoreFileError) return { path: error.path, reason: error.reason };
        if (error instanceof NotFoundError) {
          versions.delete(id); // a folder without its meta.yaml yet: looked at again at the next check
          return undefined;
        }
        throw error;
      },
    )));
    if (entry.current !== current) return; // a whole read replaced the copy meanwhile
    const byId = new Map(current.runs.map((r) => [r.run.info.run_id, r]));
    const same = (run: Run | SkippedRun | undefined) => {
      const old = run && 'info' in run ? byId.get(run.info.run_id) : undefined;
      return old !== undefined && JSON.stringify(toRow(run as Run)) === JSON.stringify(current.rows[old.index]);
    };
    // Running runs that logged nothing new (the usual case) leave the copy, its orders and filters as they are.
    if (!removed.length && readAgain.every(same)) {
      current.versions = versions;
      current.readAt = Date.now(); // as the store has them now
      return;
    }
    const gone = new Set([...removed, ...stale]);
    const runs = [...current.runs.map((v) => v.run).filter((r) => !gone.has(r.info.run_id)), ...readAgain.filter((r): r is Run => r !== undefined && 'info' in r && (view === 'all' || r.info.lifecycle_stage === view))];
    const skipped = [...current.skipped.filter((s) => ![...gone].some((id) => s.path.includes(id))), ...readAgain.filter((r): r is SkippedRun => r !== undefined && 'reason' in r)];
    entry.current = snapshot(runs, skipped, versions, Date.now());
  }

  /** One page of runs; a malformed filter or order throws the UsageError `runs list` prints. */
  async search(query: RunsQuery): Promise<RunsPage> {
    // Parsed before anything is read, as `runs list` does: a bad filter fails fast.
    const filter = parseFilter(query.filter ?? '');
    const order = parseOrderBy(query.orderBy ?? []);
    const group = query.groupBy ? parseGroupKey(query.groupBy) : undefined;
    const snap = await this.snapshot(query.experimentId, query.view ?? 'active', Boolean(query.refresh));
    const orderKey = JSON.stringify(order);
    const sorted = snap.sorted.get(orderKey) ?? remember(snap.sorted, orderKey, sortRuns(snap.runs, order));
    const filterKey = JSON.stringify(filter ?? null);
    const matching = !filter ? undefined : snap.matching.get(filterKey) ?? remember(snap.matching, filterKey, Uint8Array.from(snap.runs, (r) => Number(matches(filter, r))));
    const rows: RunRow[] = [];
    for (const r of sorted) if (!matching || matching[r.index]) rows.push(snap.rows[r.index]!);
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
