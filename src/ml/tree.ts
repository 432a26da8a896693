import type { FeatureCodes, LabelledMatrix } from './matrix.js';
import type { Rng } from './random.js';

// One CART tree with scikit-learn's semantics: weighted Gini impurity for classification, squared
// error for regression (the data carries `values`), a fresh random feature subset at every node
// (drawn without replacement; features without a valid split do not count, so the search goes on),
// thresholds at midpoints between consecutive distinct values, depth-first growth. Regression is
// classification with one "class" whose per-row amount is w * y instead of w: scikit-learn's split
// proxies then coincide (sum_left^2 / w_left + sum_right^2 / w_right) and the leaf value total / weight
// is the weighted mean. Features are pre-ranked into integer codes, so a node's split search either
// fills a class histogram indexed by code (large nodes) or sorts packed (code, row) keys (small nodes).
// All buffers belong to the builder and are reused for every node and tree: no allocation per split.

export interface TreeOptions {
  /** null: grow until pure or too small. */
  readonly maxDepth: number | null;
  /** Features to examine at each node (already resolved from sqrt/log2/fraction). */
  readonly maxFeatures: number;
  readonly minSamplesSplit: number;
  readonly minSamplesLeaf: number;
}

/** A fitted tree. A leaf has left = -1 and right = its index into leafValues (class fractions, or the mean). */
export interface Tree {
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly leafValues: Float64Array;
}

const EPSILON = Number.EPSILON;

export class TreeBuilder {
  private readonly nRows: number;
  private readonly nFeatures: number;
  private readonly nClasses: number;
  private readonly y: Int32Array;
  /** Regression targets; null for classification. */
  private readonly values: Float64Array | null;
  /** What a row adds to its slot per unit of weight: its target (regression) or 1 (exact, so classification sums are unchanged). */
  private readonly amount: Float64Array;
  private readonly codes: Int32Array;
  private readonly distinct: readonly Float64Array[];
  // scratch
  private readonly samples: Int32Array;
  private readonly keys: Float64Array;
  private readonly hist: Float64Array;
  private readonly histCount: Int32Array;
  private readonly histWeight: Float64Array;
  private readonly order: Int32Array;
  private readonly total: Float64Array;
  /** Regression: the node's sum of w * y^2 (for its variance). */
  private totalSquares = 0;
  private readonly left: Float64Array;
  private readonly stack: Int32Array;
  // growing output
  private nodeFeature = new Int32Array(64);
  private nodeThreshold = new Float64Array(64);
  private nodeLeft = new Int32Array(64);
  private nodeRight = new Int32Array(64);
  private leafValues: Float64Array;
  private nodeCount = 0;
  private leafCount = 0;
  // best split of the current node
  private bestFeature = -1;
  private bestCode = -1;
  private bestThreshold = 0;

  constructor(data: LabelledMatrix, coded: FeatureCodes) {
    this.nRows = data.nRows;
    this.nFeatures = data.nFeatures;
    this.nClasses = data.nClasses;
    this.y = data.y;
    this.values = data.values ?? null;
    this.amount = data.values ?? new Float64Array(this.nRows).fill(1);
    this.codes = coded.codes;
    this.distinct = coded.distinct;
    const maxDistinct = Math.max(1, ...coded.distinct.map((d) => d.length));
    this.samples = new Int32Array(this.nRows);
    this.keys = new Float64Array(this.nRows);
    this.hist = new Float64Array(maxDistinct * this.nClasses);
    this.histCount = new Int32Array(maxDistinct);
    this.histWeight = new Float64Array(maxDistinct);
    this.order = new Int32Array(this.nFeatures);
    this.total = new Float64Array(this.nClasses);
    this.left = new Float64Array(this.nClasses);
    this.stack = new Int32Array(4 * (this.nRows + 2));
    this.leafValues = new Float64Array(64 * this.nClasses);
  }

  /** Grows a tree on the rows with a positive weight (weights indexed by row). */
  build(rows: Int32Array, weight: Float64Array, options: TreeOptions, rng: Rng): Tree {
    let n = 0;
    for (let i = 0; i < rows.length; i++) if (weight[rows[i]!]! > 0) this.samples[n++] = rows[i]!;
    this.nodeCount = 0;
    this.leafCount = 0;
    const maxDepth = options.maxDepth ?? Infinity;
    const stack = this.stack;
    // stack entries: start, end, depth, parent * 2 + (isLeft ? 1 : 0) (parent -1 for the root)
    let top = 0;
    stack[top++] = 0;
    stack[top++] = n;
    stack[top++] = 0;
    stack[top++] = -1;
    while (top > 0) {
      const link = stack[--top]!;
      const depth = stack[--top]!;
      const end = stack[--top]!;
      const start = stack[--top]!;
      const node = this.newNode();
      if (link >= 0) {
        if (link & 1) this.nodeLeft[link >> 1] = node;
        else this.nodeRight[link >> 1] = node;
      }
      const count = end - start;
      const weightSum = this.classTotals(start, end, weight);
      let isLeaf =
        depth >= maxDepth || count < options.minSamplesSplit || count < 2 * options.minSamplesLeaf || this.impurity(weightSum) <= EPSILON;
      if (!isLeaf) isLeaf = !this.findSplit(start, end, weight, weightSum, options, rng);
      if (isLeaf) {
        this.makeLeaf(node, weightSum);
        continue;
      }
      const mid = this.partition(start, end);
      this.nodeFeature[node] = this.bestFeature;
      this.nodeThreshold[node] = this.bestThreshold;
      // right pushed first so the left child is grown first (depth first, like scikit-learn)
      stack[top++] = mid;
      stack[top++] = end;
      stack[top++] = depth + 1;
      stack[top++] = node * 2;
      stack[top++] = start;
      stack[top++] = mid;
      stack[top++] = depth + 1;
      stack[top++] = node * 2 + 1;
    }
    const c = this.nodeCount;
    return {
      feature: this.nodeFeature.slice(0, c),
      threshold: this.nodeThreshold.slice(0, c),
      left: this.nodeLeft.slice(0, c),
      right: this.nodeRight.slice(0, c),
      leafValues: this.leafValues.slice(0, this.leafCount * this.nClasses),
    };
  }

  private newNode(): number {
    if (this.nodeCount === this.nodeFeature.length) {
      const size = this.nodeCount * 2;
      this.nodeFeature = grow(this.nodeFeature, new Int32Array(size));
      this.nodeThreshold = grow(this.nodeThreshold, new Float64Array(size));
      this.nodeLeft = grow(this.nodeLeft, new Int32Array(size));
      this.nodeRight = grow(this.nodeRight, new Int32Array(size));
    }
    const node = this.nodeCount++;
    this.nodeFeature[node] = -1;
    this.nodeLeft[node] = -1;
    return node;
  }

  private makeLeaf(node: number, weightSum: number): void {
    const C = this.nClasses;
    if ((this.leafCount + 1) * C > this.leafValues.length) this.leafValues = grow(this.leafValues, new Float64Array(this.leafValues.length * 2));
    const base = this.leafCount * C;
    for (let k = 0; k < C; k++) this.leafValues[base + k] = this.total[k]! / weightSum;
    this.nodeLeft[node] = -1;
    this.nodeRight[node] = this.leafCount++;
  }

  private classTotals(start: number, end: number, weight: Float64Array): number {
    const total = this.total;
    const values = this.values;
    total.fill(0);
    this.totalSquares = 0;
    let sum = 0;
    for (let i = start; i < end; i++) {
      const s = this.samples[i]!;
      const w = weight[s]!;
      if (values) {
        total[0]! += w * values[s]!;
        this.totalSquares += w * values[s]! * values[s]!;
      } else total[this.y[s]!]! += w;
      sum += w;
    }
    return sum;
  }

  /** Gini impurity, or for regression the weighted variance (scikit-learn's MSE node impurity). */
  private impurity(weightSum: number): number {
    if (this.values) {
      const mean = this.total[0]! / weightSum;
      return this.totalSquares / weightSum - mean * mean;
    }
    let sq = 0;
    for (let k = 0; k < this.nClasses; k++) sq += this.total[k]! * this.total[k]!;
    return 1 - sq / (weightSum * weightSum);
  }

  /** Best split over a random feature subset; false when no feature has a valid split. */
  private findSplit(start: number, end: number, weight: Float64Array, weightSum: number, options: TreeOptions, rng: Rng): boolean {
    const F = this.nFeatures;
    const order = this.order;
    for (let f = 0; f < F; f++) order[f] = f;
    this.bestFeature = -1;
    let bestProxy = -Infinity;
    let counted = 0;
    const count = end - start;
    for (let i = 0; i < F && counted < options.maxFeatures; i++) {
      const j = i + rng.int(F - i);
      const f = order[j]!;
      order[j] = order[i]!;
      order[i] = f;
      const proxy =
        this.distinct[f]!.length <= 8 * count
          ? this.scanHistogram(f, start, end, weight, weightSum, options.minSamplesLeaf, bestProxy)
          : this.scanSorted(f, start, end, weight, weightSum, options.minSamplesLeaf, bestProxy);
      if (proxy === null) continue; // constant here, or no split leaves enough samples on each side
      counted++;
      if (proxy > bestProxy) bestProxy = proxy;
    }
    return this.bestFeature >= 0;
  }

  // Both scans walk the node's distinct codes in increasing order, with the left side holding every
  // code up to the previous one; they return the feature's best proxy (null if no valid split) and
  // record it as the node's best when it beats `bestProxy`. The proxy is scikit-learn's:
  // sum_k left_k^2 / w_left + sum_k right_k^2 / w_right, larger is better.

  private scanHistogram(f: number, start: number, end: number, weight: Float64Array, weightSum: number, minLeaf: number, bestProxy: number): number | null {
    const C = this.nClasses;
    const base = f * this.nRows;
    const hist = this.hist;
    const histCount = this.histCount;
    const histWeight = this.histWeight;
    const amount = this.amount;
    const nCodes = this.distinct[f]!.length;
    hist.fill(0, 0, nCodes * C);
    histCount.fill(0, 0, nCodes);
    histWeight.fill(0, 0, nCodes);
    for (let i = start; i < end; i++) {
      const s = this.samples[i]!;
      const code = this.codes[base + s]!;
      const w = weight[s]!;
      hist[code * C + this.y[s]!]! += w * amount[s]!;
      histWeight[code]! += w;
      histCount[code]!++;
    }
    const left = this.left;
    left.fill(0);
    const count = end - start;
    let nLeft = 0;
    let wLeft = 0;
    let previous = -1;
    let featureBest: number | null = null;
    for (let code = 0; code < nCodes; code++) {
      if (histCount[code] === 0) continue;
      if (previous >= 0 && nLeft >= minLeaf && count - nLeft >= minLeaf) {
        const proxy = this.proxy(wLeft, weightSum);
        if (featureBest === null || proxy > featureBest) featureBest = proxy;
        if (proxy > bestProxy) {
          bestProxy = proxy;
          this.record(f, previous, code);
        }
      }
      const h = code * C;
      for (let k = 0; k < C; k++) left[k]! += hist[h + k]!;
      wLeft += histWeight[code]!;
      nLeft += histCount[code]!;
      previous = code;
    }
    return featureBest;
  }

  private scanSorted(f: number, start: number, end: number, weight: Float64Array, weightSum: number, minLeaf: number, bestProxy: number): number | null {
    const n = this.nRows;
    const base = f * n;
    const count = end - start;
    const keys = this.keys;
    for (let i = 0; i < count; i++) {
      const s = this.samples[start + i]!;
      keys[i] = this.codes[base + s]! * n + s;
    }
    const sorted = keys.subarray(0, count).sort();
    const left = this.left;
    left.fill(0);
    let nLeft = 0;
    let wLeft = 0;
    let previous = -1;
    let featureBest: number | null = null;
    for (let i = 0; i < count; i++) {
      const key = sorted[i]!;
      const code = Math.floor(key / n);
      const s = key - code * n;
      if (code !== previous && previous >= 0 && nLeft >= minLeaf && count - nLeft >= minLeaf) {
        const proxy = this.proxy(wLeft, weightSum);
        if (featureBest === null || proxy > featureBest) featureBest = proxy;
        if (proxy > bestProxy) {
          bestProxy = proxy;
          this.record(f, previous, code);
        }
      }
      const w = weight[s]!;
      left[this.y[s]!]! += w * this.amount[s]!;
      wLeft += w;
      nLeft++;
      previous = code;
    }
    return featureBest;
  }

  private proxy(wLeft: number, weightSum: number): number {
    const wRight = weightSum - wLeft;
    let sqLeft = 0;
    let sqRight = 0;
    for (let k = 0; k < this.nClasses; k++) {
      const l = this.left[k]!;
      const r = this.total[k]! - l;
      sqLeft += l * l;
      sqRight += r * r;
    }
    return sqLeft / wLeft + sqRight / wRight;
  }

  private record(f: number, leftCode: number, rightCode: number): void {
    const values = this.distinct[f]!;
    const a = values[leftCode]!;
    const b = values[rightCode]!;
    let threshold = a / 2 + b / 2;
    if (threshold === b || !Number.isFinite(threshold)) threshold = a; // rounding, as scikit-learn does
    this.bestFeature = f;
    this.bestCode = leftCode;
    this.bestThreshold = threshold;
  }

  /** Moves the node's samples with code <= bestCode to the front; returns where the right side starts. */
  private partition(start: number, end: number): number {
    const base = this.bestFeature * this.nRows;
    const samples = this.samples;
    let i = start;
    let j = end - 1;
    while (i <= j) {
      if (this.codes[base + samples[i]!]! <= this.bestCode) i++;
      else {
        const t = samples[i]!;
        samples[i] = samples[j]!;
        samples[j--] = t;
      }
    }
    return i;
  }
}

function grow<T extends Int32Array | Float64Array>(old: T, bigger: T): T {
  bigger.set(old);
  return bigger;
}
