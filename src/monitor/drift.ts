import { PANDAS_NA_VALUES, parseDecimal, shortText, type Cell } from '../core/csv.js';
import { ConfigError, UsageError } from '../core/errors.js';
import { decideColumns, emptySample, isNumericColumn, testLabels, testNumbers, toLabels, toNumbers, type ColumnDrift, type DriftOptions } from '../drift/detect.js';
import type { Table } from '../drift/read.js';
import { sortFloat64 } from '../drift/sort.js';
import type { PredictionReader } from '../predictions/reader.js';
import { binShares, categoryShares, decileEdges, MIN_SPREAD, psi, standardDeviation, wasserstein } from './distance.js';
import { windowAt, windowCount, windowIndex, type Period, type Window } from './period.js';

// `monitor drift`: the logged raw inputs, window by window, against the training reference, with the
// tests `mlops drift` runs (its detectDrift, unchanged) plus a distance per column. Rows are streamed
// in time order and only the current window's values are held, so memory is one window, not the log.

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

type Reader = Pick<PredictionReader, 'inputs'>;

export interface DriftQuery {
  readonly model: string;
  readonly versions: readonly number[];
}

/** Every window of the period, in order, each tested against `reference` unless too small; a period with no rows is an error. */
export async function monitorDrift(reader: Reader, query: DriftQuery, reference: Table, period: Period, options: MonitorDriftOptions): Promise<MonitorWindow[]> {
  return someRows(await driftWindows(reader, query, reference, period, options), query, period);
}

/** Nothing logged in the whole period is a usage error (the wrong model, or the wrong dates), not "no drift". */
export function someRows<W extends MonitorWindow>(windows: W[], query: DriftQuery, period: Period): W[] {
  if (windows.every((w) => w.rows === 0)) {
    throw new UsageError(`no logged predictions of ${query.model} (versions ${query.versions.join(', ')}) from ${period.from.toISOString()} to ${period.to.toISOString()}`);
  }
  return windows;
}

/** The windows of the period, each tested unless too small (part of a check: see monitorDrift). */
export async function driftWindows(reader: Reader, query: DriftQuery, reference: Table, period: Period, options: MonitorDriftOptions): Promise<MonitorWindow[]> {
  const names = options.columns ?? reference.columns;
  for (const name of names) if (!reference.values.has(name)) throw new UsageError(`--columns: no column '${name}' in the training reference (${reference.file})`);
  const profiles = names.map((name) => profileOf(name, reference));
  const na = new Set(PANDAS_NA_VALUES);
  const results: MonitorWindow[] = [];
  let current = 0;
  let rows = 0;
  let samples = profiles.map((p) => p.sample());
  const close = () => {
    results.push(testWindow(windowAt(period, current), rows, names, profiles, samples, options));
    samples = profiles.map((p) => p.sample());
    rows = 0;
    current++;
  };
  // Times are ISO 8601 in UTC, so text order is time order: the window ends compare as text, no parse per row.
  let end = windowAt(period, 0).to.toISOString();
  for await (const record of reader.inputs({ model: query.model, versions: query.versions, from: period.from, to: period.to })) {
    if (record.time >= end) {
      const index = windowIndex(period, Date.parse(record.time));
      if (index < 0) continue;
      while (current < index) close();
      end = windowAt(period, current).to.toISOString();
    }
    const input = record.input;
    for (let c = 0; c < names.length; c++) samples[c]!.add(typed(Object.hasOwn(input, names[c]!) ? input[names[c]!] : null, na));
    rows++;
  }
  const total = windowCount(period);
  while (current < total) close();
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

function testWindow(window: Window, rows: number, names: readonly string[], profiles: Profile[], samples: Sample[], options: MonitorDriftOptions): MonitorWindow {
  const base = { from: window.from.toISOString(), to: window.to.toISOString(), rows };
  if (rows < options.minRows || rows === 0) return { ...base, status: 'too_small', drift: null, share: null, drifted_columns: [], columns: {} };
  const where = `predictions ${base.from}..${base.to}`;
  const tested = profiles.map((p, c) => p.test(samples[c]!, where, options));
  const { columns } = decideColumns(names, tested, options);
  const drifted: string[] = [];
  for (const [name, column] of Object.entries(columns)) {
    const byP = column.drift;
    const byDistance = (column.wasserstein ?? 0) >= options.wassersteinThreshold || column.psi >= options.psiThreshold;
    column.drift = options.rule === 'p-value' ? byP : options.rule === 'distance' ? byDistance : byP && byDistance;
    if (column.drift) drifted.push(name);
  }
  const share = drifted.length / names.length;
  return { ...base, status: drifted.length ? 'drift' : 'ok', drift: drifted.length > 0, share, drifted_columns: drifted, columns };
}

/** One window's values of one column, gathered as they stream by. */
interface Sample {
  add(cell: Cell): void;
}

/** A reference column, prepared once: what every window's sample of it is compared with. */
interface Profile {
  sample(): Sample;
  test(sample: Sample, where: string, options: MonitorDriftOptions): MonitorColumn;
}

function profileOf(name: string, reference: Table): Profile {
  const cells = reference.values.get(name)!;
  return isNumericColumn(cells) ? new NumericProfile(name, sortFloat64(toNumbers(cells, reference, name))) : new LabelProfile(name, toLabels(cells, reference.file, name));
}

/** Numbers in a growing typed array: a window of a million cells costs 8 MB, not a million boxes. */
class NumberSample implements Sample {
  values = new Float64Array(1024);
  length = 0;
  /** The first cell that is not a number, for the error. */
  bad?: string;

  add(cell: Cell): void {
    if (cell === null || cell === '') return;
    if (typeof cell !== 'number') {
      this.bad ??= cell;
      return;
    }
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = cell;
  }
}

class NumericProfile implements Profile {
  private readonly spread: number;
  private readonly edges: Float64Array;
  private readonly shares: Float64Array;

  constructor(
    private readonly name: string,
    private readonly sorted: Float64Array,
  ) {
    this.spread = standardDeviation(sorted);
    this.edges = decileEdges(sorted);
    this.shares = binShares(sorted, this.edges);
  }

  sample(): NumberSample {
    return new NumberSample();
  }

  test(sample: NumberSample, where: string, options: MonitorDriftOptions): MonitorColumn {
    if (sample.bad !== undefined) throw new ConfigError(`non-numeric value ${shortText(sample.bad)} in a numeric column`, { file: where, key: this.name });
    if (sample.length === 0) throw emptySample(where, this.name);
    // One sort serves the test and both distances.
    const sorted = sortFloat64(sample.values.subarray(0, sample.length));
    const w = wasserstein(this.sorted, sorted) / Math.max(this.spread, MIN_SPREAD);
    return { ...testNumbers(this.sorted, sorted, options), distance: w, wasserstein: w, psi: psi(this.shares, binShares(sorted, this.edges)) };
  }
}

class LabelSample implements Sample {
  readonly values: string[] = [];

  add(cell: Cell): void {
    if (cell !== null && cell !== '') this.values.push(String(cell));
  }
}

class LabelProfile implements Profile {
  constructor(
    private readonly name: string,
    private readonly labels: readonly string[],
  ) {}

  sample(): LabelSample {
    return new LabelSample();
  }

  test(sample: LabelSample, where: string): MonitorColumn {
    if (sample.values.length === 0) throw emptySample(where, this.name);
    const shares = categoryShares(this.labels, sample.values);
    const p = psi(shares.reference, shares.current);
    return { ...testLabels(this.labels, sample.values), distance: p, psi: p };
  }
}
