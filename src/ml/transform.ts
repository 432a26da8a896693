import { ConfigError } from '../core/errors.js';
import { shortText } from '../core/csv.js';
import type { Matrix } from './matrix.js';
import { cellTable, isMissing, type Cell, type CellTable, type RawTable } from './raw.js';

// The preprocessing fitted on the training part and saved as models/transform.json, so evaluation and
// prediction apply exactly the same steps: imputation (numeric columns by the chosen statistic,
// categorical ones by the most frequent value), one-hot or ordinal encoding (categories as seen in
// training; an unseen one becomes all zeros / -1), and optional standard scaling of numeric columns.

export type Missing = 'drop' | 'mean' | 'median' | 'most_frequent';
export type Encoding = 'onehot' | 'ordinal';
export type Scaling = 'standard' | 'none';

export interface NumericColumn {
  readonly name: string;
  readonly kind: 'numeric';
  /** Imputed value; null with `missing: drop` (then a missing value is an error at prediction). */
  readonly fill: number | null;
  readonly mean: number;
  readonly scale: number;
}

export interface CategoricalColumn {
  readonly name: string;
  readonly kind: 'categorical';
  readonly fill: string | null;
  readonly categories: string[];
}

export type ColumnTransform = NumericColumn | CategoricalColumn;

export interface Transform {
  readonly format: 'mlops-transform/1';
  readonly target: string;
  readonly missing: Missing;
  readonly encoding: Encoding;
  readonly scaling: Scaling;
  readonly columns: ColumnTransform[];
  /** The model's input columns, in order. */
  readonly features: string[];
  /** Cell texts read as missing (prepare's na_values); older transforms lack it: pandas' defaults. */
  readonly na_values?: string[];
}

export interface TransformOptions {
  readonly target: string;
  readonly missing: Missing;
  readonly encoding: Encoding;
  readonly scaling: Scaling;
  /** Columns to treat as categorical even when their values are numbers. */
  readonly categorical: readonly string[];
}

/** Numeric when most present values are numbers; then every other value is an error, located. */
export function inferKinds(source: RawTable | CellTable, options: TransformOptions): Map<string, 'numeric' | 'categorical'> {
  const table = cellTable(source);
  const kinds = new Map<string, 'numeric' | 'categorical'>();
  table.columns.forEach((name, c) => {
    if (name === options.target) return;
    let present = 0;
    let numbers = 0;
    let firstText = -1;
    for (let r = 0; r < table.nRows; r++) {
      const v = table.cell(c, r);
      if (isMissing(v)) continue;
      present++;
      if (typeof v === 'number') numbers++;
      else if (firstText < 0) firstText = r;
    }
    const numeric = !options.categorical.includes(name) && numbers > 0 && numbers * 2 >= present;
    if (numeric && firstText >= 0) {
      const shown = shortText(table.cell(c, firstText));
      throw new ConfigError(`non-numeric value ${shown} in numeric column (add it to prepare.na_values if it means missing)`, { file: table.file, line: table.line(firstText), key: name });
    }
    kinds.set(name, numeric ? 'numeric' : 'categorical');
  });
  return kinds;
}

export function fitTransform(
  source: RawTable | CellTable,
  rows: readonly number[],
  kinds: Map<string, 'numeric' | 'categorical'>,
  options: TransformOptions,
  naValues?: string[],
): Transform {
  const table = cellTable(source);
  const columns: ColumnTransform[] = [];
  for (const [name, kind] of kinds) {
    const c = table.columns.indexOf(name);
    if (kind === 'numeric') {
      const nums: number[] = [];
      for (const r of rows) {
        const v = table.cell(c, r);
        if (!isMissing(v)) nums.push(v as number);
      }
      const fill = options.missing === 'drop' ? null : numericFill(nums, options.missing);
      let mean = 0;
      let scale = 1;
      if (options.scaling === 'standard') {
        const valueAt = (r: number) => {
          const v = table.cell(c, r);
          return isMissing(v) ? fill! : (v as number);
        };
        // the population std of the filled training values, summed in row order
        let sum = 0;
        for (const r of rows) sum += valueAt(r);
        mean = sum / Math.max(1, rows.length);
        let squares = 0;
        for (const r of rows) squares += (valueAt(r) - mean) ** 2;
        const std = Math.sqrt(squares / Math.max(1, rows.length));
        if (std > 0) scale = std;
      }
      columns.push({ name, kind, fill, mean, scale });
    } else {
      const strings = rows.map((r) => table.cell(c, r)).filter((v): v is string | number => !isMissing(v)).map(String);
      const fill = options.missing === 'drop' ? null : mostFrequent(strings);
      columns.push({ name, kind, fill, categories: [...new Set(strings)].sort() });
    }
  }
  const features = columns.flatMap((col) =>
    col.kind === 'categorical' && options.encoding === 'onehot' ? col.categories.map((cat) => `${col.name}_${cat}`) : [col.name],
  );
  const { target, missing, encoding, scaling } = options;
  return { format: 'mlops-transform/1', target, missing, encoding, scaling, columns, features, ...(naValues ? { na_values: naValues } : {}) };
}

function numericFill(values: number[], missing: Exclude<Missing, 'drop'>): number {
  if (values.length === 0) return 0;
  if (missing === 'mean') return values.reduce((a, b) => a + b, 0) / values.length;
  if (missing === 'most_frequent') {
    // ties go to the smallest value, as scikit-learn's SimpleImputer does
    const counts = new Map<number, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
  }
  const a = new Float64Array(values);
  const mid = a.length >> 1;
  const upper = select(a, mid);
  // the largest value below the upper middle one: select left it among a[0..mid)
  return a.length % 2 ? upper : (a.subarray(0, mid).reduce((m, v) => (v > m ? v : m), -Infinity) + upper) / 2;
}

/** The k-th smallest of `a` (Hoare's selection, a linear pass on average where a sort is n log n); leaves a[0..k) <= it. */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k]!;
}

function mostFrequent(values: string[]): string | null {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
}

/** The raw column (index) each transform column reads (a missing one is an error naming it). */
function sourceColumns(transform: Transform, table: CellTable): number[] {
  return transform.columns.map((col) => {
    const c = table.columns.indexOf(col.name);
    if (c < 0) throw new ConfigError('column missing from the input (the model was trained with it)', { file: table.file, key: col.name });
    return c;
  });
}

const CATEGORY_INDEXES = new WeakMap<Transform, (Map<string, number> | undefined)[]>();

/** Per categorical column, each category's index (one lookup per cell, not a scan of the list); built once per transform, as a server applies one to many small tables. */
function categoryIndexes(transform: Transform): (Map<string, number> | undefined)[] {
  let indexes = CATEGORY_INDEXES.get(transform);
  if (!indexes) CATEGORY_INDEXES.set(transform, (indexes = transform.columns.map((col) => (col.kind === 'categorical' ? new Map(col.categories.map((c, k) => [c, k])) : undefined))));
  return indexes;
}

/** One raw cell of row `r` through `col`: the scaled number (numeric) or the category's index (-1: unseen); a missing cell takes the fill. */
function encodeCell(col: ColumnTransform, categories: Map<string, number> | undefined, v: Cell | undefined, table: CellTable, r: number): number {
  if (isMissing(v)) {
    if (col.fill === null) throw new ConfigError('missing value (the transform was fitted with missing: drop, so it has no fill value)', { file: table.file, line: table.line(r), key: col.name });
    v = col.fill;
  }
  if (col.kind === 'numeric') {
    if (typeof v !== 'number') throw new ConfigError(`non-numeric value ${shortText(v)} in numeric column`, { file: table.file, line: table.line(r), key: col.name });
    return (v - col.mean) / col.scale;
  }
  return categories!.get(String(v)) ?? -1;
}

/** How many features a column becomes. */
const widthOf = (transform: Transform, col: ColumnTransform) => (col.kind === 'categorical' && transform.encoding === 'onehot' ? col.categories.length : 1);

/** Applies the transform to `rows` of `table` (all rows by default); feature values per row. */
export function applyTransform(transform: Transform, source: RawTable | CellTable, rows?: readonly number[]): number[][] {
  const table = cellTable(source);
  const index = rows ?? Array.from({ length: table.nRows }, (_, i) => i);
  const columns = sourceColumns(transform, table);
  const categories = categoryIndexes(transform);
  // arrays of cells read directly: the per-cell call costs serving's batches 1.7x
  const arrays = 'values' in source ? columns.map((c) => source.values[c]!) : undefined;
  return index.map((r) => {
    const out: number[] = [];
    transform.columns.forEach((col, j) => {
      const value = encodeCell(col, categories[j], arrays ? arrays[j]![r] : table.cell(columns[j]!, r), table, r);
      const width = widthOf(transform, col);
      if (width === 1) out.push(value);
      else for (let k = 0; k < width; k++) out.push(k === value ? 1 : 0);
    });
    return out;
  });
}

/**
 * The transform of rows [start, end) of `table` (all by default) straight into the column-major matrix
 * the forest reads (what prediction needs): column by column, with no array per row. Same values as
 * applyTransform. A server's tables hold arrays of cells, read directly; a large file's typed columns
 * (`mlops predict`) are read cell by cell, a block of rows at a time.
 */
export function transformMatrix(transform: Transform, table: RawTable | CellTable, start = 0, end = table.nRows): Matrix {
  const nRows = end - start;
  const X = new Float64Array(nRows * transform.features.length);
  const cells = cellTable(table);
  const columns = sourceColumns(transform, cells);
  const categories = categoryIndexes(transform);
  let feature = 0;
  transform.columns.forEach((col, j) => {
    const c = columns[j]!;
    const source = 'values' in table ? table.values[c]! : undefined;
    const width = widthOf(transform, col);
    for (let r = start; r < end; r++) {
      const value = encodeCell(col, categories[j], source ? source[r] : cells.cell(c, r), cells, r);
      // one-hot: X is zeros already, so only the seen category's feature is written
      if (width === 1) X[feature * nRows + r - start] = value;
      else if (value >= 0) X[(feature + value) * nRows + r - start] = 1;
    }
    feature += width;
  });
  return { nRows, nFeatures: transform.features.length, X };
}

/** For each raw column, the indices of the model features it produced (for grouped permutation importance). */
export function featureGroups(transform: Transform): { name: string; features: number[] }[] {
  let next = 0;
  return transform.columns.map((col) => {
    const width = widthOf(transform, col);
    const features = Array.from({ length: width }, (_, i) => next + i);
    next += width;
    return { name: col.name, features };
  });
}
