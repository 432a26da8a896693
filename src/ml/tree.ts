import type { FeatureCodes, LabelledMatrix } from './matrix.js';
import type { Rng } from './random.js';

// CART trees with scikit-learn's semantics: weighted Gini impurity for classification, squared error
// for regression (the data carries `values`), a fresh random feature subset at every node (drawn
// without replacement; features without a valid split do not count, so the search goes on),
// thresholds at midpoints between consecutive distinct values, depth-first growth. Regression is
// classification with one "class" whose per-row amount is w * y instead of w: scikit-learn's split
// proxies then coincide (sum_left^2 / w_left + sum_right^2 / w_right) and the leaf value total / weight
// is the weighted mean.
//
// TreeGrower holds what both splitters share: the depth-first growth, node totals, leaves and the
// flat typed arrays a tree is stored in. The exact splitter (ExactTreeBuilder, here) and the
// histogram splitter (hist.ts) only differ in how a node's samples are kept, how a feature is
// scanned and how the samples are partitioned. Every buffer belongs to the builder and is reused for
// every node and tree: nothing is allocated per node.

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

/** What fitForest needs of a builder. */
export interface TreeBuilder {
  /** Grows a tree on the rows with a positive weight (weights indexed by row; rows outside the fit weigh 0). */
  build(weight: Float64Array, options: TreeOptions, rng: Rng): Tree;
}

const EPSILON = Number.EPSILON;

export abstract class TreeGrower implements TreeBuilder {
  protected readonly nRows: number;
  protected readonly nFeatures: number;
  protected readonly nClasses: number;
  protected readonly y: Int32Array;
  /** Regression targets; null for classification. */
  protected readonly values: Float64Array | null;
  /** What a row adds to its slot per unit of weight: its target (regression) or 1 (exact, so classification sums are unchanged). */
  protected readonly amount: Float64Array;
  /** The node's per-class weight (regression: sum of w * y). */
  protected readonly total: Float64Array;
  /** Classification: sum_k total_k^2, the right side's start in the incremental Gini proxy. */
  protected totalSquaresByClass = 0;
  /** Regression: the node's sum of w * y^2 (for its variance). */
  private totalSquares = 0;
  protected readonly left: Float64Array;
  private readonly order: Int32Array;
  /**
   * The nodes waiting to be grown, five entries each (start, end, depth, link, carry), the next one on
   * top. A node's children are pushed where it was (right) and one above (left): `slot` is the
   * current node's place, so a splitter can tell the pending nodes and their places apart.
   */
  protected readonly stack: Int32Array;
  protected slot = 0;
  // growing output
  private nodeFeature = new Int32Array(64);
  private nodeThreshold = new Float64Array(64);
  private nodeLeft = new Int32Array(64);
  private nodeRight = new Int32Array(64);
  private leafValues: Float64Array;
  private nodeCount = 0;
  private leafCount = 0;
  /**
   * What a splitter hands from a node to a child (hist: the id of a histogram buffer), -1 for nothing:
   * `carry` is the node being grown's; a splitter sets leftCarry and rightCarry in handOn.
   */
  protected carry = -1;
  protected leftCarry = -1;
  protected rightCarry = -1;
  // best split of the current node
  protected bestFeature = -1;
  protected bestCode = -1;
  /** The next code present in the node after bestCode (the threshold lies between them). */
  private bestNextCode = -1;
  private nodeBest = -Infinity;
  /** Whether the feature being scanned has offered a valid split. */
  private featureValid = false;

  constructor(data: LabelledMatrix) {
    this.nRows = data.nRows;
    this.nFeatures = data.nFeatures;
    this.nClasses = data.nClasses;
    this.y = data.y;
    this.values = data.values ?? null;
    this.amount = data.values ?? new Float64Array(this.nRows).fill(1);
    this.order = new Int32Array(this.nFeatures);
    this.total = new Float64Array(this.nClasses);
    this.left = new Float64Array(this.nClasses);
    this.stack = new Int32Array(5 * (this.nRows + 2));
    this.leafValues = new Float64Array(64 * this.nClasses);
  }

  /** Sets up the in-bag samples for a new tree; returns how many there are (the root is [0, n)). */
  protected abstract begin(weight: Float64Array): number;
  /** The sample (row) at position i of the node order, for node totals. */
  protected abstract sampleAt(i: number): number;
  /** Scans feature f over the node [start, end), offering (this.offer) every valid split in increasing code order. */
  protected abstract scan(f: number, start: number, end: number, weight: Float64Array, weightSum: number, minLeaf: number): void;
  /** Reorders [start, end) so the samples going left (code <= bestCode of bestFeature) come first; returns where the right side starts. */
  protected abstract partition(start: number, end: number): number;
  /** Called before the node's first `count` drawn features (order[0..count)) are scanned; nothing by default. */
  protected prepare(_order: Int32Array, _count: number, _start: number, _end: number): void {}
  /** The threshold between two consecutive codes of feature f present in a node. */
  protected abstract thresholdBetween(f: number, leftCode: number, rightCode: number): number;
  /** After the node [start, end) is partitioned at mid: what its children carry (leftCarry, rightCarry); nothing by default. */
  protected handOn(_start: number, _mid: number, _end: number): void {}
  /** The node [start, end) became a leaf: what it carries is no longer needed; nothing by default. */
  protected becameLeaf(_start: number, _end: number): void {}

  build(weight: Float64Array, options: TreeOptions, rng: Rng): Tree {
    const n = this.begin(weight);
    this.nodeCount = 0;
    this.leafCount = 0;
    const maxDepth = options.maxDepth ?? Infinity;
    const stack = this.stack;
    // stack entries: start, end, depth, parent * 2 + (isLeft ? 1 : 0) (parent -1 for the root), carry
    let top = 0;
    stack[top++] = 0;
    stack[top++] = n;
    stack[top++] = 0;
    stack[top++] = -1;
    stack[top++] = -1;
    while (top > 0) {
      this.carry = stack[--top]!;
      const link = stack[--top]!;
      const depth = stack[--top]!;
      const end = stack[--top]!;
      const start = stack[--top]!;
      this.slot = top / 5;
      const node = this.newNode();
      if (link >= 0) {
        if (link & 1) this.nodeLeft[link >> 1] = node;
        else this.nodeRight[link >> 1] = node;
      }
      const count = end - start;
      const weightSum = this.nodeTotals(start, end, weight);
      let isLeaf =
        depth >= maxDepth || count < options.minSamplesSplit || count < 2 * options.minSamplesLeaf || this.impurity(weightSum) <= EPSILON;
      if (!isLeaf) isLeaf = !this.findSplit(start, end, weight, weightSum, options, rng);
      if (isLeaf) {
        this.becameLeaf(start, end);
        this.makeLeaf(node, weightSum);
        continue;
      }
      const mid = this.partition(start, end);
      this.nodeFeature[node] = this.bestFeature;
      this.nodeThreshold[node] = this.thresholdBetween(this.bestFeature, this.bestCode, this.bestNextCode);
      this.leftCarry = -1;
      this.rightCarry = -1;
      this.handOn(start, mid, end);
      // right pushed first so the left child is grown first (depth first, like scikit-learn)
      stack[top++] = mid;
      stack[top++] = end;
      stack[top++] = depth + 1;
      stack[top++] = node * 2;
      stack[top++] = this.rightCarry;
      stack[top++] = start;
      stack[top++] = mid;
      stack[top++] = depth + 1;
      stack[top++] = node * 2 + 1;
      stack[top++] = this.leftCarry;
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
    this.nodeThreshold[node] = 0;
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

  private nodeTotals(start: number, end: number, weight: Float64Array): number {
    const sum = this.sumNode(start, end, weight);
    let sq = 0;
    for (let k = 0; k < this.nClasses; k++) sq += this.total[k]! * this.total[k]!;
    this.totalSquaresByClass = sq;
    return sum;
  }

  /** Fills this.total (and for regression this.totalSquares) for the node; returns its weight. */
  protected sumNode(start: number, end: number, weight: Float64Array): number {
    const total = this.total;
    const values = this.values;
    total.fill(0);
    this.totalSquares = 0;
    let sum = 0;
    for (let i = start; i < end; i++) {
      const s = this.sampleAt(i);
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
    return 1 - this.totalSquaresByClass / (weightSum * weightSum);
  }

  /** Best split over a random feature subset; false when no feature has a valid split. */
  private findSplit(start: number, end: number, weight: Float64Array, weightSum: number, options: TreeOptions, rng: Rng): boolean {
    const F = this.nFeatures;
    const order = this.order;
    for (let f = 0; f < F; f++) order[f] = f;
    this.bestFeature = -1;
    this.nodeBest = -Infinity;
    // The first maxFeatures draws always happen (the search stops only after that many valid
    // features), so they are drawn up front and a splitter may prepare them together; the random
    // stream is the one drawing them one at a time would consume.
    const first = Math.min(F, options.maxFeatures);
    for (let i = 0; i < first; i++) draw(order, i, rng);
    this.prepare(order, first, start, end);
    let counted = 0;
    for (let i = 0; i < F && counted < options.maxFeatures; i++) {
      if (i >= first) draw(order, i, rng);
      const f = order[i]!;
      this.featureValid = false;
      this.scan(f, start, end, weight, weightSum, options.minSamplesLeaf);
      if (this.featureValid) counted++; // else constant here, or no split leaves enough samples on each side
    }
    return this.bestFeature >= 0;
  }

  /**
   * Offers the splits of feature f from a histogram of the node: per code (bin), C class amounts, the
   * weight (regression only: a class's amount is its weight, so a classifier's weight is their sum
   * and is not filled) and the sample count, at hist[offset + code * (C + 2)]; codes in increasing
   * order, empty ones skipped, as a scan of the sorted samples would meet them.
   */
  protected scanHistogram(hist: Float64Array, offset: number, nCodes: number, f: number, count: number, weightSum: number, minLeaf: number): void {
    const C = this.nClasses;
    const stride = C + 2;
    const { left, total } = this;
    const regression = this.values !== null;
    left.fill(0);
    // classification: the Gini proxy's sums of squares moved bin by bin, as the exact scan does sample by sample
    let sqLeft = 0;
    let sqRight = this.totalSquaresByClass;
    let nLeft = 0;
    let wLeft = 0;
    let previous = -1;
    for (let b = 0; b < nCodes; b++) {
      const o = offset + b * stride;
      const n = hist[o + C + 1]!;
      if (n === 0) continue;
      if (previous >= 0 && nLeft >= minLeaf) {
        if (count - nLeft < minLeaf) break;
        this.offer(regression ? this.proxy(wLeft, weightSum) : sqLeft / wLeft + sqRight / (weightSum - wLeft), f, previous, b);
      }
      let weight = 0;
      for (let k = 0; k < C; k++) {
        const a = hist[o + k]!;
        const l = left[k]!;
        sqLeft += a * (2 * l + a);
        sqRight += a * (a - 2 * (total[k]! - l));
        left[k] = l + a;
        weight += a;
      }
      wLeft += regression ? hist[o + C]! : weight;
      nLeft += n;
      previous = b;
    }
  }

  /** The regression proxy (one "class": sum^2 / w on each side), from this.left. */
  protected proxy(wLeft: number, weightSum: number): number {
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

  /**
   * A valid split of feature f between two consecutive codes present in the node, with its proxy
   * (scikit-learn's: sum_k left_k^2 / w_left + sum_k right_k^2 / w_right, larger is better); the first
   * best one of the node is kept.
   */
  protected offer(proxy: number, f: number, leftCode: number, rightCode: number): void {
    this.featureValid = true;
    if (proxy > this.nodeBest) {
      this.nodeBest = proxy;
      this.record(f, leftCode, rightCode);
    }
  }

  private record(f: number, leftCode: number, rightCode: number): void {
    this.bestFeature = f;
    this.bestCode = leftCode;
    this.bestNextCode = rightCode;
  }
}

/** Draws position i of a partial Fisher-Yates shuffle of `order`. */
function draw(order: Int32Array, i: number, rng: Rng): void {
  const j = i + rng.int(order.length - i);
  const f = order[j]!;
  order[j] = order[i]!;
  order[i] = f;
}

/** The midpoint of a and b, or a when rounding would put it on b (as scikit-learn does). */
export function midpoint(a: number, b: number): number {
  const threshold = a / 2 + b / 2;
  return threshold === b || !Number.isFinite(threshold) ? a : threshold;
}

/**
 * Features with at most this many distinct values (one-hot and small ordinal columns, most of a typical
 * encoded table) are scanned from a histogram of the node's samples instead of a sorted list: a list
 * would have to be partitioned at every split although a node draws only max_features features.
 */
const FEW_VALUES = 8;

/** Up to this many rows, a sample's label (see ExactTreeBuilder) fits in 16 bits. */
const LAZY_MAX_ROWS = 65534;

/**
 * The exact splitter on presorted features. Every feature with many values keeps its own list of the
 * in-bag samples in increasing value order; a node is the same range [start, end) in every list, and
 * in the members list (the node's samples in row order), which the few-valued features are scanned
 * over. A listed feature's scan is one pass in order (no sorting per node), and the Gini proxy is
 * updated in O(1) per sample (sum of squares moved from right to left, exact in doubles because
 * bootstrap weights are whole numbers, so a few-valued feature's histogram gives the same proxies).
 * Profiling the former builder (sort the node's codes for each drawn feature) showed the sort taking
 * 40-75% of a fit; partitioning every feature's list (one-hot columns included) made the default
 * example's grid 2.3x slower than that builder, hence the histograms for few values.
 *
 * On up to 65,534 rows, lists are brought up to date lazily. Partitioning all of them at every split
 * cost 60% of a fit at 20,000 x 64, where a node scans 8 of the 64: there, the first list and the
 * members list (node totals and few-valued scans read them) are partitioned at every split, and any
 * other list only when a node scans it. Each sample carries a label: the stack place + 1 of the pending node it belongs to
 * (0 once its node is a leaf). A list remembers ranges it holds whole, each a node that was pending
 * when the list was last brought up to date (or an ancestor of later nodes); bringing it up to date
 * for a node distributes the range around that node to the node and the pending nodes inside it by
 * label, stably (so each stays sorted and in the order an eager partition would leave: the same
 * forests); the finished nodes' samples are dropped. A subtree that never scans a feature
 * never moves its list. The split feature's list needs no work: its children are its prefix and
 * suffix. A label is 16 bits: a stack place is at most the tree's depth, below the number of rows.
 * On more rows every list is partitioned at every split: with labels in 32 bits, reading them at
 * random cost more than the moves saved (200,000 x 16: 7-14% slower fits, measured side by side).
 *
 * A list entry is a (sample, code) pair of int32s, side by side: a move copies the pair as one
 * float64 (the same bytes viewed as doubles), one load and one store instead of two and two. Both
 * halves are non-negative and far below 0x7ff00000, so the pair never reads as a NaN (whose bits a
 * copy might change).
 */
export class ExactTreeBuilder extends TreeGrower {
  private readonly codes: Int32Array;
  private readonly distinct: readonly Float64Array[];
  private readonly sorted: Int32Array;
  private readonly steps: Uint8Array;
  /** 1 for the rows in the tree's bootstrap sample. */
  private readonly inBag: Uint8Array;
  /** Each feature's slot in lists, or -1 for a few-valued feature (scanned by histogram). */
  private readonly slotOf: Int32Array;
  /** How many listed features there are. */
  private readonly listed: number;
  /** Where the members list starts in lists (its last slot). */
  private readonly membersBase: number;
  /** Whether there is a members list: only a few-valued feature needs one (16 continuous features: 16 lists to partition, not 17). */
  private readonly members: boolean;
  /** Entry p of the lists: its sample at lists[2p], its code at lists[2p + 1] (a scan reads codes in order, not by row; unused in the members list). */
  private readonly lists: Int32Array;
  /** The same entries as doubles, for moving. */
  private readonly pairs: Float64Array;
  private readonly spill: Float64Array;
  private readonly goesLeft: Uint8Array;
  /** Whether lists are brought up to date only when scanned (see the class comment). */
  private readonly lazy: boolean;
  /** Each in-bag sample's label: its pending node's stack place + 1, or 0 once in a leaf (lazy lists only). */
  private readonly label: Uint16Array;
  /** Per list (slots 1 on; the first list is always up to date): the ranges it holds whole, start and end in turn, the lowest range last. */
  private readonly held: number[][];
  /** Per label, where the next entry of its node goes while a list is brought up to date. */
  private readonly cursor: Int32Array;
  private readonly histogram: Float64Array;

  constructor(data: LabelledMatrix, coded: FeatureCodes) {
    super(data);
    this.codes = coded.codes;
    this.distinct = coded.distinct;
    this.sorted = coded.order;
    this.steps = coded.steps;
    this.inBag = new Uint8Array(this.nRows);
    // Regression sums w * y per code, which rounds differently from the list's running sum: lists only.
    const histograms = this.values === null;
    this.slotOf = new Int32Array(this.nFeatures);
    let slots = 0;
    for (let f = 0; f < this.nFeatures; f++) this.slotOf[f] = histograms && this.distinct[f]!.length <= FEW_VALUES ? -1 : slots++;
    this.listed = slots;
    this.membersBase = slots * this.nRows;
    this.members = slots < this.nFeatures || slots === 0;
    this.pairs = new Float64Array((this.members ? slots + 1 : slots) * this.nRows);
    this.lists = new Int32Array(this.pairs.buffer);
    this.spill = new Float64Array(this.nRows);
    this.goesLeft = new Uint8Array(this.nRows);
    this.lazy = this.nRows <= LAZY_MAX_ROWS;
    this.label = new Uint16Array(this.lazy ? this.nRows : 0);
    this.held = Array.from({ length: this.lazy ? slots : 0 }, () => []);
    this.cursor = new Int32Array(this.lazy ? this.nRows + 3 : 0);
    this.histogram = new Float64Array(FEW_VALUES * (this.nClasses + 2));
  }

  protected begin(weight: Float64Array): number {
    const N = this.nRows;
    const { sorted, steps, lists, inBag } = this;
    let m = 0;
    for (let s = 0; s < N; s++) {
      const b = weight[s]! > 0 ? 1 : 0;
      inBag[s] = b;
      if (this.members) lists[2 * (this.membersBase + m)] = s;
      m += b;
    }
    // the root is at stack place 0
    if (this.lazy) this.label.fill(1);
    // each list in order, reading rows and code steps in order; every row is written, only in-bag ones kept
    for (let f = 0; f < this.nFeatures; f++) {
      if (this.slotOf[f]! < 0) continue;
      const base = this.slotOf[f]! * N;
      let kept = 0;
      let code = 0;
      for (let i = f * N; i < f * N + N; i++) {
        const s = sorted[i]!;
        code += steps[i]!;
        lists[2 * (base + kept)] = s;
        lists[2 * (base + kept) + 1] = code;
        kept += inBag[s]!;
      }
    }
    for (let slot = 1; slot < this.held.length; slot++) {
      this.held[slot]!.length = 0;
      this.held[slot]!.push(0, m);
    }
    return m;
  }

  protected sampleAt(i: number): number {
    // The first list: the first listed feature's (the order node totals were always summed in, which
    // regression's rounding depends on), or the members when every feature is few-valued. Both are
    // partitioned at every split.
    return this.lists[2 * i]!;
  }

  protected thresholdBetween(f: number, leftCode: number, rightCode: number): number {
    return midpoint(this.distinct[f]![leftCode]!, this.distinct[f]![rightCode]!);
  }

  protected scan(f: number, start: number, end: number, weight: Float64Array, weightSum: number, minLeaf: number): void {
    const slot = this.slotOf[f]!;
    if (slot < 0) return this.scanFew(f, start, end, weight, weightSum, minLeaf);
    if (slot > 0 && this.lazy) this.bringUpToDate(slot, start, end);
    const base = slot * this.nRows;
    const { lists, y, left, total } = this;
    const regression = this.values !== null;
    const amount = this.amount;
    left.fill(0);
    const count = end - start;
    let sqLeft = 0;
    let sqRight = this.totalSquaresByClass;
    let nLeft = 0;
    let wLeft = 0;
    let previous = -1;
    for (let i = start; i < end; i++) {
      const s = lists[2 * (base + i)]!;
      const code = lists[2 * (base + i) + 1]!;
      if (code !== previous && previous >= 0 && nLeft >= minLeaf) {
        if (count - nLeft < minLeaf) break;
        this.offer(regression ? this.proxy(wLeft, weightSum) : sqLeft / wLeft + sqRight / (weightSum - wLeft), f, previous, code);
      }
      const w = weight[s]!;
      const k = y[s]!;
      const l = left[k]!;
      if (regression) left[k] = l + w * amount[s]!;
      else {
        const r = total[k]! - l;
        sqLeft += w * (2 * l + w);
        sqRight += w * (w - 2 * r);
        left[k] = l + w;
      }
      wLeft += w;
      nLeft++;
      previous = code;
    }
  }

  /**
   * Makes list `slot` hold the current node [start, end) whole. The range it holds around the node
   * (finished nodes, then the node, then pending ones) is distributed by label; afterwards the list
   * holds the node and each pending node of that range.
   */
  private bringUpToDate(slot: number, start: number, end: number): void {
    const held = this.held[slot]!;
    let n = held.length;
    while (held[n - 1]! <= start) n -= 2; // ranges of finished nodes
    held.length = n;
    const from = held[n - 2]!;
    const to = held[n - 1]!;
    if (from === start && to === end) return;
    held.length = n - 2;
    const { stack, cursor, pairs, spill, lists, label } = this;
    const base = slot * this.nRows;
    // The pending nodes inside the range: the places below the current one, starts increasing downwards.
    let lowest = this.slot;
    while (lowest > 0 && stack[5 * (lowest - 1)]! < to) lowest--;
    // cursors into spill, which holds the range from `from`: the finished nodes' samples fill its
    // first start - from entries, which are not copied back
    for (let place = lowest; place < this.slot; place++) {
      cursor[place + 1] = stack[5 * place]! - from;
      held.push(stack[5 * place]!, stack[5 * place + 1]!);
    }
    cursor[this.slot + 1] = start - from;
    held.push(start, end);
    cursor[0] = 0;
    for (let i = base + from; i < base + to; i++) {
      const j = label[lists[2 * i]!]!;
      const c = cursor[j]!;
      spill[c] = pairs[i]!;
      cursor[j] = c + 1;
    }
    pairs.set(spill.subarray(start - from, to - from), base + start);
  }

  /** A few-valued feature (classification): the node's class weights per code, then its splits. */
  private scanFew(f: number, start: number, end: number, weight: Float64Array, weightSum: number, minLeaf: number): void {
    const C = this.nClasses;
    const stride = C + 2;
    const nCodes = this.distinct[f]!.length;
    const { histogram, lists, codes, y } = this;
    const base = f * this.nRows;
    histogram.fill(0, 0, nCodes * stride);
    for (let i = this.membersBase + start; i < this.membersBase + end; i++) {
      const s = lists[2 * i]!;
      const o = codes[base + s]! * stride;
      const w = weight[s]!;
      histogram[o + y[s]!]! += w;
      histogram[o + C + 1]!++;
    }
    this.scanHistogram(histogram, 0, nCodes, f, end - start, weightSum, minLeaf);
  }

  protected partition(start: number, end: number): number {
    const N = this.nRows;
    const { lists, goesLeft, label } = this;
    const best = this.bestFeature;
    const bestCode = this.bestCode;
    const bestSlot = this.slotOf[best]!;
    // the children's labels: the right child takes this node's stack place, the left one the place above
    const rightLabel = this.slot + 1;
    const lazy = this.lazy;
    let mid = start;
    if (bestSlot >= 0) {
      // the split feature's list is sorted: its left side is a prefix, already in place
      const splitBase = bestSlot * N;
      for (let i = start; i < end; i++) {
        const isLeft = lists[2 * (splitBase + i) + 1]! <= bestCode ? 1 : 0;
        const s = lists[2 * (splitBase + i)]!;
        goesLeft[s] = isLeft;
        if (lazy) label[s] = rightLabel + isLeft;
        mid += isLeft;
      }
      if (bestSlot > 0 && lazy) {
        const held = this.held[bestSlot]!;
        held.length -= 2;
        held.push(mid, end, start, mid);
      }
    } else {
      for (let i = this.membersBase + start; i < this.membersBase + end; i++) {
        const s = lists[2 * i]!;
        const isLeft = this.codes[best * N + s]! <= bestCode ? 1 : 0;
        goesLeft[s] = isLeft;
        if (lazy) label[s] = rightLabel + isLeft;
        mid += isLeft;
      }
    }
    const eager = lazy ? Math.min(1, this.listed) : this.listed;
    for (let slot = 0; slot < eager; slot++) if (slot !== bestSlot) this.partitionList(slot * N, start, end);
    if (this.members) this.partitionList(this.membersBase, start, end);
    return mid;
  }

  protected override becameLeaf(start: number, end: number): void {
    if (this.lazy)
      for (let i = start; i < end; i++) this.label[this.lists[2 * i]!] = 0;
  }

  /** Stable partition of one list's [start, end) by goesLeft, each entry moved as one double. */
  private partitionList(base: number, start: number, end: number): void {
    const { lists, pairs, goesLeft, spill } = this;
    let write = base + start;
    let spilled = 0;
    // branch-free: which side a sample goes to is unpredictable
    for (let i = base + start; i < base + end; i++) {
      const pair = pairs[i]!;
      const g = goesLeft[lists[2 * i]!]!;
      pairs[write] = pair;
      spill[spilled] = pair;
      write += g;
      spilled += 1 - g;
    }
    pairs.set(spill.subarray(0, spilled), write);
  }
}

export function grow<T extends Int32Array | Float64Array>(old: T, bigger: T): T {
  bigger.set(old);
  return bigger;
}
