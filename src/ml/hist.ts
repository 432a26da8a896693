import { lowerBound, type LabelledMatrix, type Matrix } from './matrix.js';
import { Rng } from './random.js';
import { midpoint, TreeGrower } from './tree.js';

// The histogram splitter (`train.splitter: hist`), the choice for large data: each feature is binned
// once per data set into at most 255 quantile bins (one byte a value), and a node's split search for
// a feature sums its samples into a per-bin histogram (class weights, total weight, count) and scans
// the bins, instead of visiting every distinct value. A child's histogram for a feature its parent
// also searched is the parent's minus its sibling's, when the sibling is the smaller side: the
// sibling's samples are counted instead of its own. The trees are ordinary trees (thresholds between
// the largest value of one bin and the smallest of the next present in the node), so prediction and
// saved models do not know which splitter grew them; with at most 255 distinct values per feature
// every bin is one value and the tree equals the exact splitter's.

export const MAX_BINS = 255;
/** Bin edges come from at most this many rows (seeded sample), as LightGBM and HistGradientBoosting do. */
const BIN_SAMPLE = 200_000;
/** Histograms kept for subtraction, at most this many bytes (deeper nodes count their own samples). */
const SLOT_BUDGET = 128 * 2 ** 20;

export interface BinnedFeatures {
  readonly kind: 'hist';
  /** Column-major bin of each value: bins[f * nRows + i]. */
  readonly bins: Uint8Array;
  /** Per feature, the smallest and largest value in each bin (Infinity and -Infinity when empty). */
  readonly lo: readonly Float64Array[];
  readonly hi: readonly Float64Array[];
}

/** Quantile bins of every column (edges from a seeded sample of at most 200,000 rows). */
export function binFeatures(m: Matrix, maxBins = MAX_BINS, seed = 0): BinnedFeatures {
  const { nRows, nFeatures, X } = m;
  const bins = new Uint8Array(nRows * nFeatures);
  const lo: Float64Array[] = [];
  const hi: Float64Array[] = [];
  const sampleSize = Math.min(nRows, BIN_SAMPLE);
  const rng = new Rng(seed);
  const picked = nRows <= BIN_SAMPLE ? null : Int32Array.from({ length: sampleSize }, () => rng.int(nRows));
  const sample = new Float64Array(sampleSize);
  for (let f = 0; f < nFeatures; f++) {
    const base = f * nRows;
    if (picked) for (let i = 0; i < sampleSize; i++) sample[i] = X[base + picked[i]!]!;
    else sample.set(X.subarray(base, base + nRows));
    const edges = quantileEdges(sample.sort(), maxBins);
    const nBins = edges.length + 1;
    const low = new Float64Array(nBins).fill(Infinity);
    const high = new Float64Array(nBins).fill(-Infinity);
    for (let i = 0; i < nRows; i++) {
      const x = X[base + i]!;
      // the first bin whose upper edge is >= x (the last bin has none)
      const a = lowerBound(edges, x);
      bins[base + i] = a;
      if (x < low[a]!) low[a] = x;
      if (x > high[a]!) high[a] = x;
    }
    lo.push(low);
    hi.push(high);
  }
  return { kind: 'hist', bins, lo, hi };
}

/** Upper edges between bins of about equal counts, cut only between distinct values: one bin per value when there are few. */
function quantileEdges(sorted: Float64Array, maxBins: number): number[] {
  const n = sorted.length;
  // distinct values in place at the front of `sorted`, with the position after each one's last copy
  const ends = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0 || sorted[i] !== sorted[count - 1]) sorted[count++] = sorted[i]!;
    ends[count - 1] = i + 1;
  }
  const edges: number[] = [];
  for (let v = 0; v + 1 < count && edges.length < maxBins - 1; v++) {
    if (count <= maxBins || ends[v]! >= ((edges.length + 1) * n) / maxBins) edges.push(midpoint(sorted[v]!, sorted[v + 1]!));
  }
  return edges;
}

/** Histogram splitter: in-bag samples in one array, partitioned in place at each split. */
export class HistTreeBuilder extends TreeGrower {
  private readonly bins: Uint8Array;
  private readonly lo: readonly Float64Array[];
  private readonly hi: readonly Float64Array[];
  private readonly samples: Int32Array;
  /** Per position (moved with the samples): class and weight times amount, so filling a histogram reads them in order. */
  private readonly sampleClass: Int32Array;
  private readonly sampleWeight: Float64Array;
  private readonly sampleAmount: Float64Array;
  private readonly keys: Float64Array;
  /** Per bin: C class amounts, the weight, the sample count. */
  private readonly stride: number;
  private readonly featureStride: number;
  /** One histogram block per depth (all features), for the node at that depth on the current path. */
  private readonly slots: Float64Array[] = [];
  /** Per depth and feature, the node whose histogram the slot holds (-1 none). */
  private readonly stamps: Int32Array[] = [];
  private readonly maxSlots: number;
  private readonly scratch: Float64Array;

  constructor(data: LabelledMatrix, binned: BinnedFeatures) {
    super(data);
    this.bins = binned.bins;
    this.lo = binned.lo;
    this.hi = binned.hi;
    this.samples = new Int32Array(this.nRows);
    this.sampleClass = new Int32Array(this.nRows);
    this.sampleWeight = new Float64Array(this.nRows);
    this.sampleAmount = new Float64Array(this.nRows);
    this.keys = new Float64Array(this.nRows);
    this.stride = this.nClasses + 2;
    this.featureStride = (MAX_BINS + 1) * this.stride;
    this.maxSlots = Math.max(1, Math.floor(SLOT_BUDGET / (8 * this.featureStride * this.nFeatures)));
    this.scratch = new Float64Array(this.featureStride * 2);
  }

  protected begin(weight: Float64Array): number {
    let n = 0;
    for (let i = 0; i < this.nRows; i++) {
      const w = weight[i]!;
      if (w <= 0) continue;
      this.samples[n] = i;
      this.sampleClass[n] = this.y[i]!;
      this.sampleWeight[n] = w;
      this.sampleAmount[n++] = w * this.amount[i]!;
    }
    for (const stamp of this.stamps) stamp.fill(-1);
    return n;
  }

  protected sampleAt(i: number): number {
    return this.samples[i]!;
  }

  protected thresholdBetween(f: number, leftCode: number, rightCode: number): number {
    return midpoint(this.hi[f]![leftCode]!, this.lo[f]![rightCode]!);
  }

  /** The histogram block for this depth, or null beyond the budget. */
  private slot(depth: number): Float64Array | null {
    if (depth >= this.maxSlots) return null;
    while (this.slots.length <= depth) {
      this.slots.push(new Float64Array(this.featureStride * this.nFeatures));
      this.stamps.push(new Int32Array(this.nFeatures).fill(-1));
    }
    return this.slots[depth]!;
  }

  protected scan(f: number, node: number, start: number, end: number, weight: Float64Array, weightSum: number, minLeaf: number): void {
    const nBins = this.lo[f]!.length;
    const count = end - start;
    if (count * 4 < nBins) return this.scanSorted(f, start, end, weight, weightSum, minLeaf);
    const depth = this.nodeDepth;
    const block = this.slot(depth);
    const offset = block ? f * this.featureStride : 0;
    const hist = block ?? this.scratch;
    const size = nBins * this.stride;
    const parent = depth > 0 && depth - 1 < this.slots.length && this.stamps[depth - 1]![f] === this.nodeParent ? this.slots[depth - 1]! : null;
    const siblingCount = this.siblingEnd - this.siblingStart;
    if (parent && block && this.siblingNode >= 0 && this.stamps[depth]![f] === this.siblingNode) {
      // the sibling searched this feature too: its histogram is still in the slot
      for (let i = 0; i < size; i++) hist[offset + i] = parent[offset + i]! - hist[offset + i]!;
    } else if (parent && siblingCount < count) {
      // the sibling's histogram, then this node's = the parent's - the sibling's
      this.fill(hist, offset, size, f, this.siblingStart, this.siblingEnd);
      for (let i = 0; i < size; i++) hist[offset + i] = parent[offset + i]! - hist[offset + i]!;
    } else this.fill(hist, offset, size, f, start, end);
    if (block) this.stamps[depth]![f] = node;
    this.scanHistogram(hist, offset, nBins, f, count, weightSum, minLeaf);
  }

  private fill(hist: Float64Array, offset: number, size: number, f: number, start: number, end: number): void {
    const { samples, bins, sampleClass, sampleWeight, sampleAmount, stride } = this;
    const C = this.nClasses;
    const base = f * this.nRows;
    hist.fill(0, offset, offset + size);
    for (let i = start; i < end; i++) {
      const o = offset + bins[base + samples[i]!]! * stride;
      hist[o + sampleClass[i]!]! += sampleAmount[i]!;
      hist[o + C]! += sampleWeight[i]!;
      hist[o + C + 1]!++;
    }
  }

  /** Small nodes: sort the node's (bin, sample) keys instead of filling 255 bins. */
  private scanSorted(f: number, start: number, end: number, weight: Float64Array, weightSum: number, minLeaf: number): void {
    const n = this.nRows;
    const base = f * n;
    const count = end - start;
    const keys = this.keys;
    for (let i = 0; i < count; i++) {
      const s = this.samples[start + i]!;
      keys[i] = this.bins[base + s]! * n + s;
    }
    const sorted = keys.subarray(0, count).sort();
    const left = this.left;
    left.fill(0);
    let nLeft = 0;
    let wLeft = 0;
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const key = sorted[i]!;
      const code = Math.floor(key / n);
      const s = key - code * n;
      if (code !== previous && previous >= 0 && nLeft >= minLeaf) {
        if (count - nLeft < minLeaf) break;
        this.offer(this.proxy(wLeft, weightSum), f, previous, code);
      }
      const w = weight[s]!;
      left[this.y[s]!]! += w * this.amount[s]!;
      wLeft += w;
      nLeft++;
      previous = code;
    }
  }

  protected partition(start: number, end: number): number {
    const base = this.bestFeature * this.nRows;
    const { samples, bins, sampleClass, sampleWeight, sampleAmount } = this;
    let i = start;
    let j = end - 1;
    while (i <= j) {
      if (bins[base + samples[i]!]! <= this.bestCode) i++;
      else {
        swap(samples, i, j);
        swap(sampleClass, i, j);
        swap(sampleWeight, i, j);
        swap(sampleAmount, i, j--);
      }
    }
    return i;
  }
}

function swap(a: Int32Array | Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
