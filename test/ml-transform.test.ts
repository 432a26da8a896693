import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RawTable } from '../src/ml/raw.js';
import { stratifiedSplit } from '../src/ml/split.js';
import { fromRows } from '../src/ml/matrix.js';
import { applyTransform, featureGroups, fitTransform, inferKinds, transformMatrix, type TransformOptions } from '../src/ml/transform.js';
import { tempDir, writeFiles } from './helpers.js';

const table: RawTable = {
  file: 'raw.csv',
  columns: ['age', 'city', 'label'],
  values: [
    [20, 30, null, 50, 40],
    ['Oslo', 'Rome', 'Oslo', null, 'Lima'],
    ['a', 'b', 'a', 'b', 'a'],
  ],
  nRows: 5,
};

const options = (o: Partial<TransformOptions>): TransformOptions => ({ target: 'label', missing: 'median', encoding: 'onehot', scaling: 'none', categorical: [], ...o });

test('one-hot encoding with median and most-frequent imputation, fitted on the training rows only', () => {
  const o = options({});
  const t = fitTransform(table, [0, 1, 2, 3], inferKinds(table, o), o);
  assert.deepEqual(t.features, ['age', 'city_Oslo', 'city_Rome']);
  // age median of 20, 30, 50 = 30; city most frequent = Oslo; Lima (row 4) was never seen in training
  assert.deepEqual(applyTransform(t, table), [
    [20, 1, 0],
    [30, 0, 1],
    [30, 1, 0],
    [50, 1, 0],
    [40, 0, 0],
  ]);
  assert.deepEqual(featureGroups(t), [
    { name: 'age', features: [0] },
    { name: 'city', features: [1, 2] },
  ]);
});

test('ordinal encoding, mean imputation and standard scaling (population std of the training rows)', () => {
  const o = options({ encoding: 'ordinal', missing: 'mean', scaling: 'standard' });
  const t = fitTransform(table, [0, 1, 2], inferKinds(table, o), o);
  // training ages 20, 30 and the mean 25 for the missing one: mean 25, std sqrt(50/3)
  const std = Math.sqrt(50 / 3);
  const rows = applyTransform(t, table);
  assert.deepEqual(rows.map((r) => r[1]), [0, 1, 0, 0, -1], 'Oslo 0, Rome 1, missing -> Oslo, unseen Lima -1');
  assert.deepEqual(rows.map((r) => r[0]), [-5 / std, 5 / std, 0, 25 / std, 15 / std]);
});

test('a transform saved as JSON and read back gives the same rows', () => {
  const o = options({ scaling: 'standard' });
  const t = fitTransform(table, [0, 1, 2, 3, 4], inferKinds(table, o), o);
  assert.deepEqual(applyTransform(JSON.parse(JSON.stringify(t)), table), applyTransform(t, table));
});

test('prediction\'s column-major transform gives the matrix of the row-wise one (one-hot and ordinal, missing and unseen values)', () => {
  for (const encoding of ['onehot', 'ordinal'] as const) {
    const o = options({ encoding, scaling: 'standard' });
    const t = fitTransform(table, [0, 1, 2], inferKinds(table, o), o);
    assert.deepEqual(transformMatrix(t, table), fromRows(applyTransform(t, table), t.features.length));
  }
  const o = options({ missing: 'drop' });
  const t = fitTransform(table, [0, 1], inferKinds(table, o), o);
  assert.throws(() => transformMatrix(t, table), /raw\.csv:4: 'age': missing value/);
});

test('a mostly numeric column with a text value is an error at its line', () => {
  const bad: RawTable = { ...table, values: [[20, 'abc', 25, 50, 40], table.values[1]!, table.values[2]!] };
  assert.throws(() => inferKinds(bad, options({})), /raw\.csv:3: 'age': non-numeric value "abc"/);
  // declared categorical, the same column is fine
  assert.equal(inferKinds(bad, options({ categorical: ['age'] })).get('age'), 'categorical');
});

test('the stratified split keeps class proportions, is seeded and shuffled', () => {
  const labels = [...Array<string>(50).fill('x'), ...Array<string>(30).fill('y'), ...Array<string>(20).fill('z')];
  const a = stratifiedSplit(labels, 0.2, 1);
  assert.equal(a.test.length, 20);
  assert.deepEqual(['x', 'y', 'z'].map((c) => a.test.filter((i) => labels[i] === c).length), [10, 6, 4]);
  assert.deepEqual(new Set([...a.train, ...a.test]).size, 100);
  assert.deepEqual(stratifiedSplit(labels, 0.2, 1), a);
  assert.notDeepEqual(stratifiedSplit(labels, 0.2, 2), a);
  assert.throws(() => stratifiedSplit(['x', 'x', 'y'], 0.5, 1), /class 'y' has only 1 row/);
});

test('the stratified split takes classes of a million rows (2,000,000-row data sets)', () => {
  const labels = Array.from({ length: 2_000_000 }, (_, i) => (i % 2 ? 'a' : 'b'));
  const { train, test: held } = stratifiedSplit(labels, 0.2, 1);
  assert.equal(held.length, 400_000);
  assert.equal(train.length + held.length, 2_000_000);
});

test('prepare drops rows with missing values under missing: drop, and imputes them otherwise', async (t) => {
  const { prepare } = await import('../src/ml/prepare.js');
  const rows = Array.from({ length: 40 }, (_, i) => `${i % 7 === 0 ? '' : 20 + i},${i % 9 === 0 ? '' : ['red', 'blue'][i % 2]},${i % 2 ? 'a' : 'b'}`);
  const csv = ['x,colour,label', ...rows].join('\n') + '\n';
  const missingRows = rows.filter((r) => r.startsWith(',') || r.includes(',,')).length;
  for (const missing of ['drop', 'median']) {
    const dir = tempDir(t);
    writeFiles(dir, { 'raw.csv': csv, 'params.yaml': `prepare:\n  input: raw.csv\n  target: label\n  missing: ${missing}\n` });
    const summary = await prepare(dir);
    assert.equal(summary.droppedRows, missing === 'drop' ? missingRows : 0);
    assert.equal(summary.trainRows + summary.testRows, 40 - summary.droppedRows);
    const prepared = readFileSync(join(dir, 'data/prepared/train.csv'), 'utf8');
    assert.equal(prepared.split('\n')[0], 'x,colour_blue,colour_red,label');
    assert.doesNotMatch(prepared, /,,|^,/m, 'no empty cells left');
  }
});
