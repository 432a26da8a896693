import type { FittedModel } from './engine.js';
import type { LabelledMatrix } from './matrix.js';
import { scoreOutput } from './metrics.js';
import { Rng } from './random.js';

// Permutation importance (scikit-learn's permutation_importance with the estimator's default score:
// accuracy for a classifier, r2 for a regressor): the drop in that score when one input's values are shuffled across rows, `repeats` times. A raw column that one-hot
// encoding spread over several features is shuffled as one block, so importance is per raw column.
// A test set larger than maxRows is scored on a seeded sample of that many rows (scikit-learn's
// max_samples; here one sample for every column, the baseline included): each column costs `repeats`
// predictions, which on the whole of a 400,000-row test set took longer than the training.

export interface Importance {
  readonly name: string;
  readonly mean: number;
  readonly std: number;
}

export function permutationImportance(
  model: FittedModel,
  full: LabelledMatrix,
  groups: readonly { name: string; features: number[] }[],
  repeats: number,
  seed: number,
  maxRows = Infinity,
): Importance[] {
  const data = full.nRows > maxRows ? sampleRows(full, maxRows, new Rng(seed)) : full;
  const { nRows } = data;
  const scoring = data.values ? 'r2' : 'accuracy';
  const scoreOf = (m: LabelledMatrix) => scoreOutput(scoring, data, model.predictProba(m));
  const baseline = scoreOf(data);
  const rng = new Rng(seed);
  const X = new Float64Array(data.X);
  const order = Int32Array.from({ length: nRows }, (_, i) => i);
  return groups.map(({ name, features }) => {
    const drops: number[] = [];
    for (let r = 0; r < repeats; r++) {
      rng.shuffle(order);
      for (const f of features) for (let i = 0; i < nRows; i++) X[f * nRows + i] = data.X[f * nRows + order[i]!]!;
      drops.push(baseline - scoreOf({ ...data, X }));
      for (const f of features) X.set(data.X.subarray(f * nRows, (f + 1) * nRows), f * nRows);
    }
    const mean = drops.reduce((a, b) => a + b, 0) / repeats;
    return { name, mean, std: Math.sqrt(drops.reduce((a, d) => a + (d - mean) ** 2, 0) / repeats) };
  });
}

/** maxRows rows drawn without replacement (kept in their order): a partial Fisher-Yates shuffle. */
function sampleRows(m: LabelledMatrix, maxRows: number, rng: Rng): LabelledMatrix {
  const order = Int32Array.from({ length: m.nRows }, (_, i) => i);
  for (let i = 0; i < maxRows; i++) {
    const j = i + rng.int(m.nRows - i);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const rows = order.subarray(0, maxRows).sort();
  const X = new Float64Array(maxRows * m.nFeatures);
  for (let f = 0; f < m.nFeatures; f++) for (let r = 0; r < maxRows; r++) X[f * maxRows + r] = m.X[f * m.nRows + rows[r]!]!;
  const values = m.values && Float64Array.from(rows, (i) => m.values![i]!);
  return { ...m, nRows: maxRows, X, y: Int32Array.from(rows, (i) => m.y[i]!), ...(values && { values }) };
}
