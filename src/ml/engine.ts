import type { LabelledMatrix, Matrix } from './matrix.js';
import { fitForest, forestFromJson, forestToJson, predictProba, type Forest, type ForestParams, type SplitFeatures } from './forest.js';

// The two engines behind `train.engine`: our forest (default) and the ml-random-forest library, kept
// usable as a second opinion. Both give class probabilities and a JSON form.

export type EngineName = 'forest' | 'ml-random-forest';
export const ENGINES: readonly EngineName[] = ['forest', 'ml-random-forest'];

export interface FittedModel {
  /** Row-major probabilities (rows x classes) for the given rows of `m` (all when omitted). */
  predictProba(m: Matrix, rows?: Int32Array): Float64Array;
  toJSON(): unknown;
}

export async function fitModel(
  engine: EngineName,
  data: LabelledMatrix,
  features: SplitFeatures,
  params: ForestParams,
  seed: number,
  rows?: Int32Array,
): Promise<FittedModel> {
  if (engine === 'ml-random-forest') return (await import('./ml-rf.js')).fitMlRandomForest(data, params, seed, rows);
  return wrapForest(fitForest(data, features, params, seed, rows));
}

export async function loadModel(engine: EngineName, json: unknown, nClasses: number, nFeatures: number): Promise<FittedModel> {
  if (engine === 'ml-random-forest') return (await import('./ml-rf.js')).loadMlRandomForest(json, nClasses);
  return wrapForest(forestFromJson(json, { nClasses, nFeatures }));
}

function wrapForest(forest: Forest): FittedModel {
  return { predictProba: (m, rows) => predictProba(forest, m, rows), toJSON: () => forestToJson(forest) };
}
