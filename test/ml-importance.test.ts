import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitModel, type FittedModel } from '../src/ml/engine.js';
import { DEFAULT_FOREST_PARAMS, splitFeatures } from '../src/ml/forest.js';
import { permutationImportance } from '../src/ml/importance.js';
import { fromRows, type LabelledMatrix, type Matrix } from '../src/ml/matrix.js';
import { Rng } from '../src/ml/random.js';

// Permutation importance on a real forest: the class is feature 0's sign, feature 1 is noise.

function problem(n: number, seed: number): LabelledMatrix {
  const rng = new Rng(seed);
  const rows = Array.from({ length: n }, () => [rng.nextU32() / 2 ** 32 - 0.5, rng.nextU32() / 2 ** 32]);
  return { ...fromRows(rows, 2), y: Int32Array.from(rows, (r) => (r[0]! > 0 ? 1 : 0)), nClasses: 2 };
}

/** The model, recording how many rows each prediction scored. */
function counting(model: FittedModel, sizes: number[]): FittedModel {
  return { ...model, predictProba: (m: Matrix, rows?: Int32Array) => (sizes.push(rows?.length ?? m.nRows), model.predictProba(m, rows)) };
}

test('permutation importance: a test set over maxRows is scored on a seeded sample of that many rows; at or under it, on every row as before', async () => {
  const train = problem(400, 1);
  const data = splitFeatures(train, 'exact');
  const model = await fitModel('forest', train, data, { ...DEFAULT_FOREST_PARAMS, n_estimators: 20 }, 3);
  const testSet = problem(1000, 2);
  const groups = [
    { name: 'signal', features: [0] },
    { name: 'noise', features: [1] },
  ];

  const sizes: number[] = [];
  const full = permutationImportance(counting(model, sizes), testSet, groups, 3, 7);
  assert.deepEqual(new Set(sizes), new Set([1000]));
  assert.deepEqual(permutationImportance(model, testSet, groups, 3, 7, 1000), full, 'a cap the test set does not exceed changes nothing');

  sizes.length = 0;
  const capped = permutationImportance(counting(model, sizes), testSet, groups, 3, 7, 300);
  assert.deepEqual(new Set(sizes), new Set([300]), 'baseline and every repeat on the 300 sampled rows');
  assert.equal(sizes.length, 1 + 2 * 3);
  assert.deepEqual(permutationImportance(model, testSet, groups, 3, 7, 300), capped, 'same seed, same sample');
  assert.notDeepEqual(permutationImportance(model, testSet, groups, 3, 8, 300), capped);
  assert.ok(capped[0]!.mean > 0.3 && Math.abs(capped[1]!.mean) < 0.05, JSON.stringify(capped));
  assert.ok(Math.abs(capped[0]!.mean - full[0]!.mean) < 0.1, 'the sample estimates the full drop');
});
