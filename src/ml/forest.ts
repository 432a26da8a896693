import type { FeatureCodes, LabelledMatrix, Matrix } from './matrix.js';
import { Rng } from './random.js';
import { TreeBuilder, type Tree } from './tree.js';

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

/** Fits a forest on `rows` of `data` (all rows when omitted). Same seed, same forest. */
export function fitForest(
  data: LabelledMatrix,
  coded: FeatureCodes,
  params: ForestParams,
  seed: number,
  rows: Int32Array = Int32Array.from({ length: data.nRows }, (_, i) => i),
  builder = new TreeBuilder(data, coded),
): Forest {
  const options = {
    maxDepth: params.max_depth,
    maxFeatures: resolveMaxFeatures(params.max_features, data.nFeatures),
    minSamplesSplit: params.min_samples_split,
    minSamplesLeaf: params.min_samples_leaf,
  };
  const weight = new Float64Array(data.nRows);
  const forestRng = new Rng(seed);
  const trees: Tree[] = [];
  const n = rows.length;
  for (let t = 0; t < params.n_estimators; t++) {
    const rng = new Rng(forestRng.nextU32());
    if (params.bootstrap) {
      for (let i = 0; i < n; i++) weight[rows[i]!] = 0;
      for (let i = 0; i < n; i++) weight[rows[rng.int(n)]!]! += 1;
    } else {
      for (let i = 0; i < n; i++) weight[rows[i]!] = 1;
    }
    trees.push(builder.build(rows, weight, options, rng));
  }
  return { nClasses: data.nClasses, trees };
}

/** Class probabilities, row-major (rows.length x nClasses), for the given rows of `m` (all by default). */
export function predictProba(forest: Forest, m: Matrix, rows?: Int32Array): Float64Array {
  const C = forest.nClasses;
  const count = rows ? rows.length : m.nRows;
  const out = new Float64Array(count * C);
  const { X, nRows } = m;
  for (const tree of forest.trees) {
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
  const scale = 1 / forest.trees.length;
  for (let i = 0; i < out.length; i++) out[i]! *= scale;
  return out;
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

/** Plain arrays for JSON; numbers keep full precision so a reloaded forest predicts identically. */
export function forestToJson(forest: Forest): unknown {
  const trees = forest.trees.map((t) => Object.fromEntries((Object.keys(TREE_FIELDS) as TreeField[]).map((k) => [k, Array.from(t[k])])));
  return { n_classes: forest.nClasses, trees };
}

export function forestFromJson(json: unknown): Forest {
  const j = json as { n_classes: number; trees: Record<TreeField, number[]>[] };
  const trees = j.trees.map((t) => Object.fromEntries((Object.keys(TREE_FIELDS) as TreeField[]).map((k) => [k, TREE_FIELDS[k].from(t[k])])) as unknown as Tree);
  return { nClasses: j.n_classes, trees };
}
