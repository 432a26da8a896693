import { ConfigError } from '../core/errors.js';
import { shortText } from '../core/csv.js';
import type { Matrix } from './matrix.js';
import { isMissing, lineOf, type Cell, type RawTable } from './raw.js';

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
export function inferKinds(table: RawTable, options: TransformOptions): Map<string, 'numeric' | 'categorical'> {
  const kinds = new Map<string, 'numeric' | 'categorical'>();
  table.columns.forEach((name, c) => {
    if (name === options.target) return;
    const values = table.values[c]!;
    const present = values.filter((v) => !isMissing(v));
    const numbers = present.filter((v) => typeof v === 'number').length;
    const numeric = !options.categorical.includes(name) && numbers > 0 && numbers * 2 >= present.length;
    if (numeric) checkNumeric(table, c);
    kinds.set(name, numeric ? 'numeric' : 'categorical');
  });
  return kinds;
}

function checkNumeric(table: RawTable, c: number): void {
  const values = table.values[c]!;
  const r = values.findIndex((v) => !isMissing(v) && typeof v !== 'number');
  if (r >= 0) {
    throw new ConfigError(`non-numeric value ${shortText(values[r])} in numeric column (add it to prepare.na_values if it means missing)`, { file: table.file, line: lineOf(table, r), key: table.columns[c] });
  }
}

export function fitTransform(
  table: RawTable,
  rows: readonly number[],
  kinds: Map<string, 'numeric' | 'categorical'>,
  options: TransformOptions,
  naValues?: string[],
): Transform {
  const columns: ColumnTransform[] = [];
  for (const [name, kind] of kinds) {
    const all = table.values[table.columns.indexOf(name)]!;
    const present = rows.map((r) => all[r]).filter((v): v is string | number => !isMissing(v));
    if (kind === 'numeric') {
      const nums = present as number[];
      const fill = options.missing === 'drop' ? null : numericFill(nums, options.missing);
      const filled = rows.map((r) => (isMissing(all[r]) ? fill! : (all[r] as number)));
      const mean = filled.reduce((a, b) => a + b, 0) / Math.max(1, filled.length);
      const std = Math.sqrt(filled.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, filled.length));
      const scaled = options.scaling === 'standard';
      columns.push({ name, kind, fill, mean: scaled ? mean : 0, scale: scaled && std > 0 ? std : 1 });
    } else {
      const strings = present.map(String);
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
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function mostFrequent(values: string[]): string | null {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
}

/** The raw column each transform column reads (a missing one is an error naming it). */
function sourceColumns(transform: Transform, table: RawTable): (readonly Cell[])[] {
  return transform.columns.map((col) => {
    const c = table.columns.indexOf(col.name);
    if (c < 0) throw new ConfigError('column missing from the input (the model was trained with it)', { file: table.file, key: col.name });
    return table.values[c]!;
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
function encodeCell(col: ColumnTransform, categories: Map<string, number> | undefined, v: Cell | undefined, table: RawTable, r: number): number {
  if (isMissing(v)) {
    if (col.fill === null) throw new ConfigError('missing value (the transform was fitted with missing: drop, so it has no fill value)', { file: table.file, line: lineOf(table, r), key: col.name });
    v = col.fill;
  }
  if (col.kind === 'numeric') {
    if (typeof v !== 'number') throw new ConfigError(`non-numeric value ${shortText(v)} in numeric column`, { file: table.file, line: lineOf(table, r), key: col.name });
    return (v - col.mean) / col.scale;
  }
  return categories!.get(String(v)) ?? -1;
}

/** How many features a column becomes. */
const widthOf = (transform: Transform, col: ColumnTransform) => (col.kind === 'categorical' && transform.encoding === 'onehot' ? col.categories.length : 1);

/** Applies the transform to `rows` of `table` (all rows by default); feature values per row. */
export function applyTransform(transform: Transform, table: RawTable, rows?: readonly number[]): number[][] {
  const index = rows ?? Array.from({ length: table.nRows }, (_, i) => i);
  const sources = sourceColumns(transform, table);
  const categories = categoryIndexes(transform);
  return index.map((r) => {
    const out: number[] = [];
    transform.columns.forEach((col, j) => {
      const value = encodeCell(col, categories[j], sources[j]![r], table, r);
      const width = widthOf(transform, col);
      if (width === 1) out.push(value);
      else for (let k = 0; k < width; k++) out.push(k === value ? 1 : 0);
    });
    return out;
  });
}

/**
 * The transform of every row of `table` straight into the column-major matrix the forest reads
 * (what prediction needs): column by column, with no array per row. Same values as applyTransform.
 */
export function transformMatrix(transform: Transform, table: RawTable): Matrix {
  const nRows = table.nRows;
  const X = new Float64Array(nRows * transform.features.length);
  const sources = sourceColumns(transform, table);
  const categories = categoryIndexes(transform);
  let feature = 0;
  transform.columns.forEach((col, j) => {
    const source = sources[j]!;
    const width = widthOf(transform, col);
    for (let r = 0; r < nRows; r++) {
      const value = encodeCell(col, categories[j], source[r], table, r);
      // one-hot: X is zeros already, so only the seen category's feature is written
      if (width === 1) X[feature * nRows + r] = value;
      else if (value >= 0) X[(feature + value) * nRows + r] = 1;
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
