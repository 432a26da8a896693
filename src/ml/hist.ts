import { lowerBound, type LabelledMatrix, type Matrix } from './matrix.js';
import { Rng } from './random.js';
import { midpoint, TreeGrower } from './tree.js';

// The histogram splitter (`train.splitter: hist`), the choice for large data: each feature is binned
// once per data set into at most 255 quantile bins (one byte a value), and a node's split search for
// a feature sums its samples into a per-bin histogram (class weights, count) and scans the bins,
// instead of visiting every distinct value. The node's first max_features drawn features are filled
// in one pass over its samples; nodes under 64 samples sort their few (bin, position) keys instead.
// The trees are ordinary trees (thresholds between the largest value of one bin and the smallest of
// the next present in the node), so prediction and saved models do not know which splitter grew them;
// with at most 255 distinct values per feature every bin is one value and the tree equals the exact
// splitter's.
//
// Sibling subtraction: when every node considers every feature (max_features null or a count >= the
// number of features) in classification, a split node's histograms of all features are kept, the
// smaller child's are filled from its samples and the larger child's are the parent's minus the
// smaller's, so each level fills only the smaller halves. Class weights are bootstrap counts (whole
// numbers) and counts are whole, so the difference is exactly the sum a fill would give and the trees
// are the same to the bit. Regression sums w * y, which rounds differently in another order: it fills
// directly. With per-node feature sampling (sqrt, log2) there is no subtraction either: a node draws
// its own features, so a child shares few with its parent (4 of 16 at sqrt), and filling all of the
// parent's features to subtract from cost about what it saved (measured at 200,000 x 16).

export const MAX_BINS = 255;
/** Nodes smaller than this (and than a quarter of the feature's bins) are scanned by sorting (bin, position) keys; the position takes the low bits. */
const SORTED_BITS = 6;
const SORTED_LIMIT = 1 << SORTED_BITS;
/** Bin edges come from at most this many rows (seeded sample), as LightGBM and HistGradientBoosting do. */
const BIN_SAMPLE = 200_000;
/**
 * At most this many whole-node histograms (every feature) are alive at once: the node being split,
 * the smaller child being filled, and one per right sibling waiting on the stack. A chain deeper than
 * that fills directly (same trees); 16 features x 7 classes: 294 KB a histogram, 9.4 MB for 32.
 */
export const MAX_LIVE_HISTOGRAMS = 32;

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
  private readonly keys: Int32Array;
  /** Per bin: C class amounts, the weight, the sample count. */
  private readonly stride: number;
  private readonly featureStride: number;
  /** The node's histograms of the features prepared together, one featureStride apart (ownBlock, or a whole-node histogram). */
  private block: Float64Array = new Float64Array(0);
  private ownBlock: Float64Array = new Float64Array(0);
  /** Whole-node histograms (every feature, in feature order) for sibling subtraction, by id; freeIds are unused. */
  private readonly whole: Float64Array[] = [];
  private readonly freeIds: number[] = [];
  private readonly maxLive: number;
  private readonly everyFeature: Int32Array;
  /** A child at least this large gets its histograms by subtraction (cheaper than filling it). */
  private readonly subtractFrom: number;
  /** Per feature, its histogram's place in block for the node being searched, or -1. */
  private readonly placeOf: Int32Array;
  private readonly prepared: Int32Array;
  private preparedCount = 0;
  private readonly scratch: Float64Array;
  private readonly bases: Int32Array;

  /** maxLive: whole-node histograms kept for subtraction (0: fill every node directly; the trees are the same). */
  constructor(data: LabelledMatrix, binned: BinnedFeatures, maxLive = MAX_LIVE_HISTOGRAMS) {
    super(data);
    this.maxLive = maxLive;
    this.bins = binned.bins;
    this.lo = binned.lo;
    this.hi = binned.hi;
    this.samples = new Int32Array(this.nRows);
    this.sampleClass = new Int32Array(this.nRows);
    this.sampleWeight = new Float64Array(this.nRows);
    // a class's amount is the weight itself: one array, moved once
    this.sampleAmount = this.values ? new Float64Array(this.nRows) : this.sampleWeight;
    this.keys = new Int32Array(SORTED_LIMIT);
    this.stride = this.nClasses + 2;
    this.featureStride = MAX_BINS * this.stride;
    this.placeOf = new Int32Array(this.nFeatures).fill(-1);
    this.prepared = new Int32Array(this.nFeatures);
    this.scratch = new Float64Array(this.featureStride);
    this.bases = new Int32Array(this.nFeatures);
    this.everyFeature = Int32Array.from({ length: this.nFeatures }, (_, f) => f);
    // subtracting touches every used bin of every feature; filling touches each sample's bin of every
    // feature (two adds each): subtraction pays once the child has about half as many samples as bins x stride
    const bins = binned.lo.reduce((sum, lo) => sum + lo.length, 0) / Math.max(1, this.nFeatures);
    this.subtractFrom = Math.max(SORTED_LIMIT, Math.ceil((bins * this.stride) / 2));
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
    return n;
  }

  protected sampleAt(i: number): number {
    return this.samples[i]!;
  }

  /** Classification reads the class and weight moved along with the samples, in order (not by row, all over memory). */
  protected override sumNode(start: number, end: number, weight: Float64Array): number {
    if (this.values) return super.sumNode(start, end, weight);
    const { total, sampleClass, sampleWeight } = this;
    total.fill(0);
    let sum = 0;
    for (let i = start; i < end; i++) {
      const w = sampleWeight[i]!;
      total[sampleClass[i]!]! += w;
      sum += w;
    }
    return sum;
  }

  protected thresholdBetween(f: number, leftCode: number, rightCode: number): number {
    return midpoint(this.hi[f]![leftCode]!, this.lo[f]![rightCode]!);
  }

  /** Small nodes sort their keys instead (scanSorted). */
  private histogramFor(f: number, count: number): boolean {
    return count >= SORTED_LIMIT || count * 4 >= this.lo[f]!.length;
  }

  /**
   * The node's first drawn features are histogrammed in one pass over its samples: each sample's
   * class and weight are read once, and the features' bins are independent adds the CPU overlaps
   * (one feature at a time, consecutive samples in one bin wait for each other's add).
   */
  protected override prepare(order: Int32Array, count: number, start: number, end: number): void {
    for (let j = 0; j < this.preparedCount; j++) this.placeOf[this.prepared[j]!] = -1;
    // every feature drawn up front: the node considers them all, so whole-node histograms serve (subtraction)
    if (count === this.nFeatures && this.values === null && end - start >= SORTED_LIMIT && this.maxLive > 0) {
      if (this.carry < 0) {
        this.carry = this.takeWhole();
        if (this.carry >= 0) this.fill(this.whole[this.carry]!, this.everyFeature, this.nFeatures, start, end);
      }
      if (this.carry >= 0) {
        this.block = this.whole[this.carry]!;
        this.prepared.set(this.everyFeature);
        this.placeOf.set(this.everyFeature);
        this.preparedCount = this.nFeatures;
        return;
      }
    }
    let k = 0;
    for (let j = 0; j < count; j++) {
      const f = order[j]!;
      if (!this.histogramFor(f, end - start)) continue;
      this.placeOf[f] = k;
      this.prepared[k++] = f;
    }
    this.preparedCount = k;
    if (k === 0) return;
    if (this.ownBlock.length < k * this.featureStride) this.ownBlock = new Float64Array(k * this.featureStride);
    this.block = this.ownBlock;
    this.fill(this.block, this.prepared, k, start, end);
  }

  /**
   * The split node's whole histograms (this.carry) become the larger child's, minus the smaller
   * child's, which are filled; a small child fills its own (or sorts), as does every child when no
   * histogram is free.
   */
  protected override handOn(start: number, mid: number, end: number): void {
    const parent = this.carry;
    if (parent < 0) return;
    const leftSmaller = mid - start <= end - mid;
    const [from, to] = leftSmaller ? [start, mid] : [mid, end];
    const child = Math.max(mid - start, end - mid) >= this.subtractFrom ? this.takeWhole() : -1;
    if (child < 0) {
      this.freeIds.push(parent);
      return;
    }
    const larger = this.whole[parent]!;
    const smaller = this.whole[child]!;
    this.fill(smaller, this.everyFeature, this.nFeatures, from, to);
    for (let f = 0, o = 0; f < this.nFeatures; f++, o += this.featureStride) {
      for (let i = o, last = o + this.lo[f]!.length * this.stride; i < last; i++) larger[i]! -= smaller[i]!;
    }
    let smallerCarry = child;
    if (to - from < SORTED_LIMIT) {
      this.freeIds.push(child);
      smallerCarry = -1;
    }
    this.leftCarry = leftSmaller ? smallerCarry : parent;
    this.rightCarry = leftSmaller ? parent : smallerCarry;
  }

  protected override becameLeaf(): void {
    if (this.carry >= 0) this.freeIds.push(this.carry);
  }

  /** Whole-node histograms allocated so far: the most alive at once (at most maxLive). */
  get histogramsKept(): number {
    return this.whole.length;
  }

  /** A free whole-node histogram's id, -1 when maxLive are in use. */
  private takeWhole(): number {
    if (this.freeIds.length > 0) return this.freeIds.pop()!;
    if (this.whole.length >= this.maxLive) return -1;
    this.whole.push(new Float64Array(this.nFeatures * this.featureStride));
    return this.whole.length - 1;
  }

  protected scan(f: number, start: number, end: number, _weight: Float64Array, weightSum: number, minLeaf: number): void {
    const nBins = this.lo[f]!.length;
    const count = end - start;
    if (!this.histogramFor(f, count)) return this.scanSorted(f, start, end, weightSum, minLeaf);
    const place = this.placeOf[f]!;
    if (place >= 0) return this.scanHistogram(this.block, place * this.featureStride, nBins, f, count, weightSum, minLeaf);
    // drawn after a feature without a valid split
    this.prepared[this.preparedCount] = f;
    this.fill(this.scratch, this.prepared.subarray(this.preparedCount), 1, start, end);
    this.scanHistogram(this.scratch, 0, nBins, f, count, weightSum, minLeaf);
  }

  /** Histograms of features[0..k) over the node [start, end), one featureStride apart in `hist`. */
  private fill(hist: Float64Array, features: Int32Array, k: number, start: number, end: number): void {
    const { samples, bins, sampleClass, sampleWeight, sampleAmount, stride, featureStride, nRows } = this;
    const C = this.nClasses;
    const bases = this.bases;
    for (let j = 0; j < k; j++) {
      bases[j] = features[j]! * nRows;
      hist.fill(0, j * featureStride, j * featureStride + this.lo[features[j]!]!.length * stride);
    }
    if (this.values) {
      for (let i = start; i < end; i++) {
        const s = samples[i]!;
        const a = sampleAmount[i]!;
        const w = sampleWeight[i]!;
        for (let j = 0, o0 = 0; j < k; j++, o0 += featureStride) {
          const o = o0 + bins[bases[j]! + s]! * stride;
          hist[o]! += a;
          hist[o + 1]! += w;
          hist[o + 2]!++;
        }
      }
      return;
    }
    // classification: class weights and counts (scanHistogram sums the weight from the classes); four
    // features a pass written out, which measured 2-3x faster per feature than a loop over them
    let j = 0;
    for (; j + 4 <= k; j += 4) {
      const b0 = bases[j]!;
      const b1 = bases[j + 1]!;
      const b2 = bases[j + 2]!;
      const b3 = bases[j + 3]!;
      const o0 = j * featureStride;
      const o1 = o0 + featureStride;
      const o2 = o1 + featureStride;
      const o3 = o2 + featureStride;
      for (let i = start; i < end; i++) {
        const s = samples[i]!;
        const c = sampleClass[i]!;
        const w = sampleWeight[i]!;
        let o = o0 + bins[b0 + s]! * stride;
        hist[o + c]! += w;
        hist[o + C + 1]!++;
        o = o1 + bins[b1 + s]! * stride;
        hist[o + c]! += w;
        hist[o + C + 1]!++;
        o = o2 + bins[b2 + s]! * stride;
        hist[o + c]! += w;
        hist[o + C + 1]!++;
        o = o3 + bins[b3 + s]! * stride;
        hist[o + c]! += w;
        hist[o + C + 1]!++;
      }
    }
    for (; j < k; j++) {
      const base = bases[j]!;
      const o0 = j * featureStride;
      for (let i = start; i < end; i++) {
        const o = o0 + bins[base + samples[i]!]! * stride;
        hist[o + sampleClass[i]!]! += sampleWeight[i]!;
        hist[o + C + 1]!++;
      }
    }
  }

  /**
   * Small nodes (fewer than 64 samples): sort the node's (bin, position) keys instead
   * of filling 255 bins, and move the Gini proxy's sums of squares sample by sample (as the exact
   * scan does).
   */
  private scanSorted(f: number, start: number, end: number, weightSum: number, minLeaf: number): void {
    const n = this.nRows;
    const base = f * n;
    const count = end - start;
    const { keys, samples, bins, sampleClass, sampleWeight, sampleAmount, left, total } = this;
    const regression = this.values !== null;
    // insertion sort: a few dozen keys, no typed-array view to allocate for the built-in sort
    for (let j = 0; j < count; j++) {
      const key = bins[base + samples[start + j]!]! * SORTED_LIMIT + j;
      let i = j;
      for (; i > 0 && keys[i - 1]! > key; i--) keys[i] = keys[i - 1]!;
      keys[i] = key;
    }
    const sorted = keys;
    left.fill(0);
    let sqLeft = 0;
    let sqRight = this.totalSquaresByClass;
    let nLeft = 0;
    let wLeft = 0;
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const key = sorted[i]!;
      const p = start + (key & (SORTED_LIMIT - 1));
      const code = key >> SORTED_BITS;
      if (code !== previous && previous >= 0 && nLeft >= minLeaf) {
        if (count - nLeft < minLeaf) break;
        this.offer(regression ? this.proxy(wLeft, weightSum) : sqLeft / wLeft + sqRight / (weightSum - wLeft), f, previous, code);
      }
      const w = sampleWeight[p]!;
      const k = sampleClass[p]!;
      const l = left[k]!;
      sqLeft += w * (2 * l + w);
      sqRight += w * (w - 2 * (total[k]! - l));
      left[k] = l + sampleAmount[p]!;
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
        if (sampleAmount !== sampleWeight) swap(sampleAmount, i, j);
        swap(sampleWeight, i, j--);
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
