import { binFeatures, HistTreeBuilder, type BinnedFeatures } from './hist.js';
import { encodeFeatures, type FeatureCodes, type LabelledMatrix, type Matrix } from './matrix.js';
import { Rng } from './random.js';
import { addRow, addRowGroups, packedForest } from './forest-walk.js';
import { ExactTreeBuilder, type Tree, type TreeBuilder } from './tree.js';

// A random forest with scikit-learn's semantics: each tree sees a bootstrap sample expressed as row
// weights (a row drawn 3 times weighs 3), and predict_proba is the mean of the trees' leaf class
// fractions (soft voting).

export type MaxFeatures = 'sqrt' | 'log2' | number | null;

export interface ForestParams {
  n_estimators: number;
  max_depth: number | null;
  max_features: MaxFeatures;
  min_samples_split: number;
  min_samples_leaf: number;
  bootstrap: boolean;
}

export const DEFAULT_FOREST_PARAMS: ForestParams = {
  n_estimators: 100,
  max_depth: null,
  max_features: 'sqrt',
  min_samples_split: 2,
  min_samples_leaf: 1,
  bootstrap: true,
};

export interface Forest {
  readonly nClasses: number;
  readonly trees: readonly Tree[];
}

/** scikit-learn's rule: sqrt/log2 rounded down (at least 1), a fraction of the features, a count, or all. */
export function resolveMaxFeatures(maxFeatures: MaxFeatures, nFeatures: number): number {
  if (maxFeatures === null) return nFeatures;
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(nFeatures)));
  if (maxFeatures === 'log2') return Math.max(1, Math.floor(Math.log2(nFeatures)));
  if (maxFeatures < 1) return Math.max(1, Math.floor(maxFeatures * nFeatures));
  return Math.min(nFeatures, maxFeatures);
}

/** The features as a splitter reads them: ranked and presorted (exact) or binned (hist). */
export type SplitFeatures = FeatureCodes | BinnedFeatures;

export type Splitter = 'exact' | 'hist';
export const SPLITTERS: readonly Splitter[] = ['exact', 'hist'];

/** Ranks (exact) or bins (hist) the features once per data set. */
export function splitFeatures(m: Matrix, splitter: Splitter): SplitFeatures {
  return splitter === 'hist' ? binFeatures(m) : encodeFeatures(m);
}

export function treeBuilder(data: LabelledMatrix, features: SplitFeatures): TreeBuilder {
  return features.kind === 'hist' ? new HistTreeBuilder(data, features) : new ExactTreeBuilder(data, features);
}

/** Fits a forest on `rows` of `data` (all rows when omitted). Same seed, same forest. A builder may be given (one made for `data`). */
export function fitForest(data: LabelledMatrix, features: SplitFeatures, params: ForestParams, seed: number, rows?: Int32Array, builder = treeBuilder(data, features)): Forest {
  const trees: Tree[] = [];
  growTrees(builder, data, params, seed, rows, (tree) => trees.push(tree));
  return { nClasses: data.nClasses, trees };
}

/**
 * Fits a forest on `trainRows` and returns its probabilities for `testRows` (row-major), without
 * keeping the trees: each one scores the test rows as soon as it is grown, so a cross-validation fit
 * holds one tree at a time instead of the whole forest.
 */
export function fitAndPredict(data: LabelledMatrix, features: SplitFeatures, params: ForestParams, seed: number, trainRows: Int32Array, testRows: Int32Array): Float64Array {
  const out = new Float64Array(testRows.length * data.nClasses);
  growTrees(treeBuilder(data, features), data, params, seed, trainRows, (tree) => addTree(out, tree, data.nClasses, data, testRows));
  scale(out, 1 / params.n_estimators);
  return out;
}

function growTrees(builder: TreeBuilder, data: LabelledMatrix, params: ForestParams, seed: number, rows: Int32Array | undefined, onTree: (tree: Tree) => void): void {
  const options = {
    maxDepth: params.max_depth,
    maxFeatures: resolveMaxFeatures(params.max_features, data.nFeatures),
    minSamplesSplit: params.min_samples_split,
    minSamplesLeaf: params.min_samples_leaf,
  };
  // rows outside the fit keep weight 0 throughout
  const weight = new Float64Array(data.nRows);
  const forestRng = new Rng(seed);
  const all = rows ?? Int32Array.from({ length: data.nRows }, (_, i) => i);
  const n = all.length;
  for (let t = 0; t < params.n_estimators; t++) {
    const rng = new Rng(forestRng.nextU32());
    if (params.bootstrap) {
      for (let i = 0; i < n; i++) weight[all[i]!] = 0;
      for (let i = 0; i < n; i++) weight[all[rng.int(n)]!]! += 1;
    } else {
      for (let i = 0; i < n; i++) weight[all[i]!] = 1;
    }
    onTree(builder.build(weight, options, rng));
  }
}

/**
 * Rows scored together: their features copied row-major (one row's values side by side, in cache)
 * while every tree walks them. Each tree is read once per block, so big trees want big blocks
 * (1,000,000 rows on 4,700-node trees: 16,384-row blocks took 0.73x the CPU time of 2,048-row ones);
 * small trees do better with the block in L2 (the serve forest's 300-node trees: 2,048 rows beat
 * 8,192 by 15%). About 4 rows per node of the average tree, within those bounds and at most 2 MiB of values.
 */
function blockRows(forest: Forest, nFeatures: number): number {
  const nodes = forest.trees.reduce((sum, tree) => sum + tree.feature.length, 0) / Math.max(1, forest.trees.length);
  return Math.max(4, Math.min(Math.max(2048, Math.min(16384, 4 * nodes)), Math.floor(2 ** 18 / Math.max(1, nFeatures)))) | 0;
}

/** Class probabilities, row-major (rows.length x nClasses), for the given rows of `m` (all by default). */
export function predictProba(forest: Forest, m: Matrix, rows?: Int32Array): Float64Array {
  const C = forest.nClasses;
  const count = rows ? rows.length : m.nRows;
  const out = new Float64Array(count * C);
  const { X, nRows, nFeatures: F } = m;
  const packed = packedForest(forest);
  if (packed.maxFeature >= F) throw new Error(`the forest splits on feature ${packed.maxFeature} but the data has ${F} features`);
  const rowsPerBlock = blockRows(forest, F);
  const block = new Float64Array(Math.min(count, rowsPerBlock) * F);
  for (let b0 = 0; b0 < count; b0 += rowsPerBlock) {
    const n = Math.min(rowsPerBlock, count - b0);
    for (let f = 0; f < F; f++) {
      for (let r = 0; r < n; r++) block[r * F + f] = X[f * nRows + (rows ? rows[b0 + r]! : b0 + r)]!;
    }
    const grouped = n & ~3;
    for (const tree of packed.trees) addRowGroups(tree, block, grouped, F, out, b0 * C, C);
    for (let r = grouped; r < n; r++) addRow(packed.trees, block, r * F, out, (b0 + r) * C, C);
  }
  scale(out, 1 / forest.trees.length);
  return out;
}

/** Adds one tree's leaf values for the given rows of `m` (all by default) to `out`. */
function addTree(out: Float64Array, tree: Tree, C: number, m: Matrix, rows?: Int32Array): void {
  const count = rows ? rows.length : m.nRows;
  const { X, nRows } = m;
  const { feature, threshold, left, right, leafValues } = tree;
  for (let r = 0; r < count; r++) {
    const i = rows ? rows[r]! : r;
    let node = 0;
    while (left[node] !== -1) node = X[feature[node]! * nRows + i]! <= threshold[node]! ? left[node]! : right[node]!;
    const leaf = right[node]! * C;
    const o = r * C;
    for (let k = 0; k < C; k++) out[o + k]! += leafValues[leaf + k]!;
  }
}

function scale(out: Float64Array, factor: number): void {
  for (let i = 0; i < out.length; i++) out[i]! *= factor;
}

/** Index of the largest probability per row; ties go to the first class, as numpy's argmax does. */
export function argmaxRows(proba: Float64Array, nClasses: number): Int32Array {
  const count = proba.length / nClasses;
  const out = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    let best = 0;
    for (let k = 1; k < nClasses; k++) if (proba[r * nClasses + k]! > proba[r * nClasses + best]!) best = k;
    out[r] = best;
  }
  return out;
}

// The typed array behind each field of a tree, for reading one back from JSON.
const TREE_FIELDS = { feature: Int32Array, threshold: Float64Array, left: Int32Array, right: Int32Array, leafValues: Float64Array };
type TreeField = keyof typeof TREE_FIELDS;
const FIELDS = Object.keys(TREE_FIELDS) as TreeField[];

/**
 * Each tree field as the base64 of its little-endian bytes: exact, about a third of the size of
 * decimal numbers, and written without building a JS array per field (a 200,000-row forest as number
 * arrays took more memory than the fit). Files from before kept plain number arrays; both load.
 */
export function forestToJson(forest: Forest): unknown {
  const trees = forest.trees.map((t) => Object.fromEntries(FIELDS.map((k) => [k, Buffer.from(t[k].buffer, t[k].byteOffset, t[k].byteLength).toString('base64')])));
  return { n_classes: forest.nClasses, encoding: 'base64', trees };
}

/** With `shape` (a model file's classes and features), a forest of another shape is an error too. */
export function forestFromJson(json: unknown, shape?: { nClasses: number; nFeatures: number }): Forest {
  const j = json as { n_classes: number; encoding?: 'base64'; trees: Record<TreeField, number[] | string>[] };
  const field = (k: TreeField, v: number[] | string) => {
    if (typeof v !== 'string') return TREE_FIELDS[k].from(v);
    const bytes = Buffer.from(v, 'base64');
    const size = TREE_FIELDS[k].BYTES_PER_ELEMENT;
    if (bytes.length % size !== 0) throw new Error(`tree field ${k} is not a whole number of values`);
    // copied into its own buffer: a typed array needs an aligned offset
    return new TREE_FIELDS[k](bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  };
  const trees = j.trees.map((t) => Object.fromEntries(FIELDS.map((k) => [k, field(k, t[k])])) as unknown as Tree);
  const forest = { nClasses: j.n_classes, trees };
  // checked (and packed for prediction) now: a damaged tree is an error when the model loads
  const { maxFeature } = packedForest(forest);
  if (shape && forest.nClasses !== shape.nClasses) throw new Error(`the forest has ${forest.nClasses} classes, the model file ${shape.nClasses}`);
  if (shape && maxFeature >= shape.nFeatures) throw new Error(`the forest splits on feature ${maxFeature}, the model file has ${shape.nFeatures} features`);
  return forest;
}
