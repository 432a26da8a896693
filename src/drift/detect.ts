import { shortText } from '../core/csv.js';
import { ConfigError } from '../core/errors.js';
import { chi2Homogeneity } from './chi2.js';
import { adjustPValues, type Correction } from './corrections.js';
import type { Alternative } from './ks-statistic.js';
import { ks2Sorted } from './ks-test.js';
import { sortFloat64 } from './sort.js';
import type { Table } from './read.js';

export type TestChoice = 'auto' | 'ks' | 'chi2';
export const TEST_CHOICES: readonly TestChoice[] = ['auto', 'ks', 'chi2'];

export interface DriftOptions {
  columns?: readonly string[];
  test: TestChoice;
  alternative: Alternative;
  threshold: number;
  correction: Correction;
}

export interface ColumnDrift {
  type: 'numeric' | 'categorical';
  test: 'ks' | 'chi2';
  statistic: number;
  p_value: number;
  /** p_value after the multiple-testing correction; this is what is compared with the threshold. */
  p_adjusted: number;
  drift: boolean;
  n_reference: number;
  n_current: number;
  /** KS: which null distribution gave p (exact below 10,000 per sample). */
  method?: 'exact' | 'asymptotic';
  /** chi2: degrees of freedom. */
  dof?: number;
}

export interface DriftReport {
  reference: string;
  current: string;
  columns: Record<string, ColumnDrift>;
  drift: boolean;
  drifted_columns: string[];
  share: number;
  threshold: number;
  correction: Correction;
  test: TestChoice;
  alternative: Alternative;
}

/** With --test auto, numeric columns with at most this many distinct values are treated as categories. */
export const FEW_VALUES = 5;

export function detectDrift(reference: Table, current: Table, options: DriftOptions): DriftReport {
  const names = columnsToCompare(reference, current, options.columns);
  const { columns, drifted } = decideColumns(names, names.map((name) => testColumn(name, reference, current, options)), options);
  return {
    reference: reference.file,
    current: current.file,
    columns,
    drift: drifted.length > 0,
    drifted_columns: drifted,
    share: names.length ? drifted.length / names.length : 0,
    threshold: options.threshold,
    correction: options.correction,
    test: options.test,
    alternative: options.alternative,
  };
}

/** Each column's test corrected for their number and compared with the threshold, keyed by name. */
export function decideColumns<T extends ColumnDrift>(names: readonly string[], rows: T[], options: Pick<DriftOptions, 'threshold' | 'correction'>): { columns: Record<string, T>; drifted: string[] } {
  const adjusted = adjustPValues(rows.map((r) => r.p_value), options.correction);
  const columns: Record<string, T> = {};
  const drifted: string[] = [];
  names.forEach((name, i) => {
    const row = rows[i]!;
    row.p_adjusted = adjusted[i]!;
    row.drift = row.p_adjusted < options.threshold;
    if (row.drift) drifted.push(name);
    // defined, not assigned: a column named __proto__ must stay a key
    Object.defineProperty(columns, name, { value: row, enumerable: true, writable: true, configurable: true });
  });
  return { columns, drifted };
}

function columnsToCompare(reference: Table, current: Table, wanted: readonly string[] | undefined): readonly string[] {
  if (wanted) {
    for (const name of wanted) {
      for (const table of [reference, current]) {
        if (!table.values.has(name)) throw new ConfigError('no such column', { file: table.file, key: name });
      }
    }
    return wanted;
  }
  for (const [table, other] of [[current, reference], [reference, current]] as const) {
    const missing = other.columns.find((c) => !table.values.has(c));
    if (missing !== undefined) throw new ConfigError(`column missing (headers differ from ${other.file})`, { file: table.file, key: missing });
  }
  return reference.columns;
}

function testColumn(name: string, reference: Table, current: Table, options: DriftOptions): ColumnDrift {
  const refCells = reference.values.get(name)!;
  const curCells = current.values.get(name)!;
  if (isNumericColumn(refCells)) {
    const x = sortFloat64(toNumbers(refCells, reference, name));
    const y = sortFloat64(toNumbers(curCells, current, name));
    return testNumbers(x, y, options);
  }
  return testLabels(toLabels(refCells, reference.file, name), toLabels(curCells, current.file, name));
}

/** A column is numeric when most of its filled reference cells are numbers. */
export function isNumericColumn(referenceCells: readonly unknown[]): boolean {
  const filled = referenceCells.filter(isFilled);
  const numbers = filled.filter((v) => typeof v === 'number').length;
  return numbers > filled.length - numbers;
}

/** A numeric column's test on its two ascending samples: KS, or chi-square over the values (asked, or few distinct values). */
export function testNumbers(x: Float64Array, y: Float64Array, options: Pick<DriftOptions, 'test' | 'alternative'>): ColumnDrift {
  const base = { p_adjusted: NaN, drift: false, n_reference: x.length, n_current: y.length };
  const chi2 = options.test === 'chi2' || (options.test === 'auto' && distinctCount(x, y) <= FEW_VALUES);
  if (!chi2) {
    const r = ks2Sorted(x, y, options.alternative);
    return { type: 'numeric', test: 'ks', statistic: r.statistic, p_value: r.pValue, method: r.method, ...base };
  }
  const r = chi2Homogeneity(Array.from(x, String), Array.from(y, String));
  return { type: 'numeric', test: 'chi2', statistic: r.statistic, p_value: r.pValue, dof: r.dof, ...base };
}

/** A categorical column's chi-square test. */
export function testLabels(x: readonly string[], y: readonly string[]): ColumnDrift {
  const r = chi2Homogeneity(x, y);
  return { type: 'categorical', test: 'chi2', statistic: r.statistic, p_value: r.pValue, dof: r.dof, p_adjusted: NaN, drift: false, n_reference: x.length, n_current: y.length };
}

export const isFilled = (v: unknown) => v !== null && v !== undefined && v !== '';

export function emptySample(file: string, name: string): ConfigError {
  return new ConfigError('no values in this column (empty sample)', { file, key: name });
}

/** The column's non-empty cells as numbers; anything else is an input error naming its row. */
export function toNumbers(cells: readonly unknown[], { file, lines }: Table, name: string): Float64Array {
  const out: number[] = [];
  cells.forEach((v, row) => {
    if (!isFilled(v)) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ConfigError(`non-numeric value ${shortText(typeof v === 'number' ? String(v) : v)} in a numeric column`, { file, line: lines?.[row] ?? row + 2, key: name });
    }
    out.push(v);
  });
  if (out.length === 0) throw emptySample(file, name);
  return Float64Array.from(out);
}

export function toLabels(cells: readonly unknown[], file: string, name: string): string[] {
  const out = cells.filter(isFilled).map(String);
  if (out.length === 0) throw emptySample(file, name);
  return out;
}

function distinctCount(x: Float64Array, y: Float64Array): number {
  const seen = new Set<number>();
  for (const sample of [x, y]) {
    for (const v of sample) {
      seen.add(v);
      if (seen.size > FEW_VALUES) return seen.size;
    }
  }
  return seen.size;
}
