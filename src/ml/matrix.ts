// The numeric data the forest works on: a column-major Float64Array (feature f of row i at
// X[f * nRows + i]) plus class indices. Column-major keeps one feature's values together, which is
// what split search scans.

export interface Matrix {
  readonly nRows: number;
  readonly nFeatures: number;
  readonly X: Float64Array;
}

export interface LabelledMatrix extends Matrix {
  /** Class index per row, into the sorted class list (all 0 for regression). */
  readonly y: Int32Array;
  /** 1 for regression: the model's one output per row is the predicted value. */
  readonly nClasses: number;
  /** Regression: the target value per row. */
  readonly values?: Float64Array;
}

/** Per feature, the rank of each row's value among the feature's distinct values, and those values. */
export interface FeatureCodes {
  readonly kind: 'exact';
  /** Column-major like X: codes[f * nRows + i]. */
  readonly codes: Int32Array;
  /** Sorted distinct values of each feature. */
  readonly distinct: readonly Float64Array[];
  /** Column-major: the rows in increasing order of feature f (ties by row), at order[f * nRows ...]. */
  readonly order: Int32Array;
  /** Beside order: 1 where the row's code is one more than the previous row's (a running sum of steps is the code, read in order instead of codes by row). */
  readonly steps: Uint8Array;
}

/** Ranks and presorts every column once per data set; every tree of every fold then splits on integer codes. */
export function encodeFeatures(m: Matrix): FeatureCodes {
  const { nRows, nFeatures, X } = m;
  const codes = new Int32Array(nRows * nFeatures);
  const rowOrder = new Int32Array(nRows * nFeatures);
  const steps = new Uint8Array(nRows * nFeatures);
  const distinct: Float64Array[] = [];
  const order = new Float64Array(nRows);
  for (let f = 0; f < nFeatures; f++) {
    const base = f * nRows;
    order.set(X.subarray(base, base + nRows));
    order.sort();
    let count = 0;
    for (let i = 0; i < nRows; i++) if (i === 0 || order[i] !== order[i - 1]) order[count++] = order[i]!;
    const values = order.slice(0, count);
    distinct.push(values);
    for (let i = 0; i < nRows; i++) codes[base + i] = lowerBound(values, X[base + i]!);
    // counting sort of the rows by code: starts[c] is where code c's rows begin
    const starts = new Int32Array(count + 1);
    for (let i = 0; i < nRows; i++) starts[codes[base + i]! + 1]!++;
    for (let c = 0; c < count; c++) starts[c + 1]! += starts[c]!;
    for (let c = 1; c < count; c++) steps[base + starts[c]!] = 1;
    for (let i = 0; i < nRows; i++) rowOrder[base + starts[codes[base + i]!]!++] = i;
  }
  return { kind: 'exact', codes, distinct, order: rowOrder, steps };
}

/** The first index whose value is >= x (values sorted ascending); values.length when none is. */
export function lowerBound(values: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Builds a column-major matrix from row arrays. */
export function fromRows(rows: readonly (readonly number[])[], nFeatures: number): Matrix {
  const nRows = rows.length;
  const X = new Float64Array(nRows * nFeatures);
  for (let i = 0; i < nRows; i++) for (let f = 0; f < nFeatures; f++) X[f * nRows + i] = rows[i]![f]!;
  return { nRows, nFeatures, X };
}
