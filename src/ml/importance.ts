import type { FittedModel } from './engine.js';
import type { LabelledMatrix } from './matrix.js';
import { scoreOutput } from './metrics.js';
import { Rng } from './random.js';

// Permutation importance (scikit-learn's permutation_importance with the estimator's default score:
// accuracy for a classifier, r2 for a regressor): the drop in that score when one input's values are shuffled across rows, `repeats` times. A raw column that one-hot
// encoding spread over several features is shuffled as one block, so importance is per raw column.

export interface Importance {
  readonly name: string;
  readonly mean: number;
  readonly std: number;
}

export function permutationImportance(
  model: FittedModel,
  data: LabelledMatrix,
  groups: readonly { name: string; features: number[] }[],
  repeats: number,
  seed: number,
): Importance[] {
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
