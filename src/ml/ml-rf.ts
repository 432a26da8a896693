import type { FittedModel } from './engine.js';
import type { LabelledMatrix, Matrix } from './matrix.js';
import { resolveMaxFeatures, type ForestParams } from './forest.js';

// The ml-random-forest library behind the same interface. It differs from scikit-learn (and from our
// forest) in ways it does not let us change: features are sampled once per tree, not per split;
// min_samples_leaf is not supported; it predicts by majority vote, so the probabilities here are the
// trees' vote shares. Loaded lazily: only `engine: ml-random-forest` pays for it.

interface MlForest {
  train(x: number[][], y: number[]): void;
  predictionValues(x: number[][]): { rows: number; columns: number; get(i: number, j: number): number };
  toJSON(): unknown;
}

function rowsOf(m: Matrix, rows?: Int32Array): number[][] {
  const index = rows ?? Int32Array.from({ length: m.nRows }, (_, i) => i);
  return Array.from(index, (i) => Array.from({ length: m.nFeatures }, (_, f) => m.X[f * m.nRows + i]!));
}

function wrap(model: MlForest, nClasses: number): FittedModel {
  return {
    predictProba(m, rows) {
      const votes = model.predictionValues(rowsOf(m, rows));
      const out = new Float64Array(votes.rows * nClasses);
      for (let i = 0; i < votes.rows; i++) {
        for (let t = 0; t < votes.columns; t++) out[i * nClasses + votes.get(i, t)]! += 1 / votes.columns;
      }
      return out;
    },
    toJSON: () => model.toJSON(),
  };
}

export async function fitMlRandomForest(data: LabelledMatrix, params: ForestParams, seed: number, rows?: Int32Array): Promise<FittedModel> {
  const { RandomForestClassifier } = await import('ml-random-forest');
  const model = new RandomForestClassifier({
    nEstimators: params.n_estimators,
    maxFeatures: resolveMaxFeatures(params.max_features, data.nFeatures),
    replacement: false,
    useSampleBagging: params.bootstrap,
    seed,
    noOOB: true,
    treeOptions: { maxDepth: params.max_depth ?? Infinity, minNumSamples: params.min_samples_split },
  }) as unknown as MlForest;
  const index = rows ?? Int32Array.from({ length: data.nRows }, (_, i) => i);
  model.train(rowsOf(data, index), Array.from(index, (i) => data.y[i]!));
  return wrap(model, data.nClasses);
}

export async function loadMlRandomForest(json: unknown, nClasses: number): Promise<FittedModel> {
  const { RandomForestClassifier } = await import('ml-random-forest');
  return wrap(RandomForestClassifier.load(json as never) as unknown as MlForest, nClasses);
}
