import { PANDAS_NA_VALUES, parseDecimal, type Cell } from '../core/csv.js';
import { UsageError } from '../core/errors.js';
import { detectDrift, type ColumnDrift, type DriftOptions } from '../drift/detect.js';
import type { Table } from '../drift/read.js';
import { sortFloat64 } from '../drift/sort.js';
import type { PredictionReader } from '../predictions/reader.js';
import { binShares, categoryShares, decileEdges, MIN_SPREAD, psi, standardDeviation, wasserstein } from './distance.js';
import { windowAt, windowCount, windowIndex, type Period, type Window } from './period.js';

// `monitor drift`: the logged raw inputs, window by window, against the training reference, with the
// tests `mlops drift` runs (its detectDrift, unchanged) plus a distance per column. Rows are streamed
// in time order and only the current window's cells are held, so memory is one window, not the log.

/** What decides that a column drifted: the corrected p-value, the distance, or both at once. */
export type DriftRule = 'p-value' | 'distance' | 'both';
export const DRIFT_RULES: readonly DriftRule[] = ['p-value', 'distance', 'both'];

export interface MonitorDriftOptions extends DriftOptions {
  readonly rule: DriftRule;
  /** A numeric column's Wasserstein distance / reference std at or above this is a distance drift. */
  readonly wassersteinThreshold: number;
  /** A column's PSI at or above this is a distance drift. */
  readonly psiThreshold: number;
  /** Windows with fewer rows are reported as too small, not tested. */
  readonly minRows: number;
}

export const MONITOR_DEFAULTS = { rule: 'p-value', wassersteinThreshold: 0.1, psiThreshold: 0.2, minRows: 100 } as const;

export interface MonitorColumn extends ColumnDrift {
  /** The distance the rule uses: normalised Wasserstein for numeric columns, PSI for categories. */
  distance: number;
  /** Wasserstein distance / the reference's standard deviation (numeric columns). */
  wasserstein?: number;
  psi: number;
}

export interface MonitorWindow {
  from: string;
  to: string;
  rows: number;
  /** `too_small`: fewer than min-rows rows, not tested (drift is null: unknown, not "no drift"). */
  status: 'ok' | 'drift' | 'too_small';
  drift: boolean | null;
  share: number | null;
  drifted_columns: string[];
  columns: Record<string, MonitorColumn>;
}

type Reader = Pick<PredictionReader, 'rows'>;

export interface DriftQuery {
  readonly model: string;
  readonly versions: readonly number[];
}

/** Every window of the period, in order, each tested against `reference` unless too small. */
export async function monitorDrift(reader: Reader, query: DriftQuery, reference: Table, period: Period, options: MonitorDriftOptions): Promise<MonitorWindow[]> {
  const profile = new ReferenceProfile(reference);
  const na = new Set(PANDAS_NA_VALUES);
  const columns = reference.columns;
  const results: MonitorWindow[] = [];
  let current = 0;
  let cells: Cell[][] = columns.map(() => []);
  const close = () => {
    results.push(testWindow(windowAt(period, current), cells, reference, profile, options));
    cells = columns.map(() => []);
    current++;
  };
  for await (const record of reader.rows({ model: query.model, versions: query.versions, from: period.from, to: period.to })) {
    const index = windowIndex(period, Date.parse(record.time));
    if (index < 0) continue;
    if (index < current) throw new Error(`the prediction log returned rows out of time order (${record.time})`);
    while (current < index) close();
    const input = record.input;
    columns.forEach((name, c) => cells[c]!.push(typed(Object.hasOwn(input, name) ? input[name] : null, na)));
  }
  const total = windowCount(period);
  while (current < total) close();
  if (results.every((w) => w.rows === 0)) {
    throw new UsageError(`no logged predictions of ${query.model} (versions ${query.versions.join(', ')}) from ${period.from.toISOString()} to ${period.to.toISOString()}`);
  }
  return results;
}

/** A logged cell typed as the reference CSV's cells are (pandas' NA texts missing, decimal texts numbers). */
function typed(value: Cell | undefined, na: ReadonlySet<string>): Cell {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  const text = value.trim();
  if (na.has(text)) return null;
  return parseDecimal(text) ?? text;
}

function testWindow(window: Window, cells: Cell[][], reference: Table, profile: ReferenceProfile, options: MonitorDriftOptions): MonitorWindow {
  const rows = cells[0]?.length ?? 0;
  const base = { from: window.from.toISOString(), to: window.to.toISOString(), rows };
  if (rows < options.minRows || rows === 0) return { ...base, status: 'too_small', drift: null, share: null, drifted_columns: [], columns: {} };
  const current: Table = {
    file: `predictions ${base.from}..${base.to}`,
    columns: reference.columns,
    values: new Map(reference.columns.map((name, c) => [name, cells[c]!])),
  };
  const report = detectDrift(reference, current, options);
  const columns: Record<string, MonitorColumn> = {};
  const drifted: string[] = [];
  for (const [name, tested] of Object.entries(report.columns)) {
    const column = withDistance(name, tested, current.values.get(name)!, profile);
    const byP = tested.drift;
    const byDistance = (column.wasserstein ?? 0) >= options.wassersteinThreshold || column.psi >= options.psiThreshold;
    column.drift = options.rule === 'p-value' ? byP : options.rule === 'distance' ? byDistance : byP && byDistance;
    if (column.drift) drifted.push(name);
    Object.defineProperty(columns, name, { value: column, enumerable: true, writable: true, configurable: true });
  }
  const share = drifted.length / Object.keys(columns).length;
  return { ...base, status: drifted.length ? 'drift' : 'ok', drift: drifted.length > 0, share, drifted_columns: drifted, columns };
}

function withDistance(name: string, tested: ColumnDrift, cells: readonly unknown[], profile: ReferenceProfile): MonitorColumn {
  if (tested.type === 'numeric') {
    const ref = profile.numeric(name);
    const sorted = sortFloat64(Float64Array.from(cells.filter((v): v is number => typeof v === 'number')));
    const w = wasserstein(ref.sorted, sorted) / Math.max(ref.spread, MIN_SPREAD);
    return { ...tested, distance: w, wasserstein: w, psi: psi(ref.shares, binShares(sorted, ref.edges)) };
  }
  const shares = categoryShares(profile.labels(name), cells.filter((v) => v !== null && v !== '').map(String));
  const p = psi(shares.reference, shares.current);
  return { ...tested, distance: p, psi: p };
}

/** What every window compares with, computed once per column: sorted values, spread, decile bins. */
class ReferenceProfile {
  private readonly numbers = new Map<string, { sorted: Float64Array; spread: number; edges: Float64Array; shares: Float64Array }>();
  private readonly texts = new Map<string, string[]>();

  constructor(private readonly table: Table) {}

  numeric(name: string) {
    let p = this.numbers.get(name);
    if (!p) {
      const values = this.table.values.get(name)!.filter((v): v is number => typeof v === 'number');
      const sorted = sortFloat64(Float64Array.from(values));
      const edges = decileEdges(sorted);
      p = { sorted, spread: standardDeviation(sorted), edges, shares: binShares(sorted, edges) };
      this.numbers.set(name, p);
    }
    return p;
  }

  labels(name: string): string[] {
    let l = this.texts.get(name);
    if (!l) {
      l = this.table.values.get(name)!.filter((v) => v !== null && v !== undefined && v !== '').map(String);
      this.texts.set(name, l);
    }
    return l;
  }
}
