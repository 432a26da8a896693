import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_FOREST_PARAMS, fitForest, forestFromJson, forestToJson, predictProba, splitFeatures, type Forest, type ForestParams, type Splitter } from '../src/ml/forest.js';
import type { Matrix } from '../src/ml/matrix.js';
import { OBESITY_CSV, obesityMatrix } from './helpers.js';

// predictProba walks four rows through a tree in lockstep without branches (forest-walk.ts). Its
// probabilities must be the plain walk's to the last bit: checked here on forests grown from the real
// obesity data (exact and hist splitters, depth 10 and unlimited, classification and regression),
// over row counts that leave a tail of 1-3 rows and cross a block boundary, on row subsets, with NaN
// inputs, and after a JSON round trip. Damaged trees are refused when a forest is read.

const noObesity = existsSync(OBESITY_CSV) ? false : `no ${OBESITY_CSV}`;

/** The plain walk, one row and one tree at a time on the column-major matrix: the reference. */
function plainWalk(forest: Forest, m: Matrix, rows?: Int32Array): Float64Array {
  const C = forest.nClasses;
  const count = rows ? rows.length : m.nRows;
  const out = new Float64Array(count * C);
  for (const { feature, threshold, left, right, leafValues } of forest.trees) {
    for (let r = 0; r < count; r++) {
      const i = rows ? rows[r]! : r;
      let node = 0;
      while (left[node] !== -1) node = m.X[feature[node]! * m.nRows + i]! <= threshold[node]! ? left[node]! : right[node]!;
      for (let k = 0; k < C; k++) out[r * C + k]! += leafValues[right[node]! * C + k]!;
    }
  }
  return out.map((v) => v * (1 / forest.trees.length));
}

/** `m` repeated up to n rows, every 97th value NaN when asked (missing values go right, as in the plain walk). */
function resized(m: Matrix, n: number, nan = false): Matrix {
  const X = new Float64Array(n * m.nFeatures);
  for (let f = 0; f < m.nFeatures; f++) for (let i = 0; i < n; i++) X[f * n + i] = nan && (f * n + i) % 97 === 0 ? NaN : m.X[f * m.nRows + (i % m.nRows)]!;
  return { nRows: n, nFeatures: m.nFeatures, X };
}

function assertSameBits(actual: Float64Array, expected: Float64Array, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) if (!Object.is(actual[i], expected[i])) assert.fail(`${what}: value ${i} is ${actual[i]}, the plain walk gives ${expected[i]}`);
}

const cases: [string, string, boolean, Splitter, Partial<ForestParams>][] = [
  ['classification, exact, depth 10', 'NObeyesdad', false, 'exact', { max_depth: 10 }],
  ['classification, exact, unlimited depth', 'NObeyesdad', false, 'exact', {}],
  ['classification, hist, unlimited depth', 'NObeyesdad', false, 'hist', {}],
  ['regression of Weight, exact', 'Weight', true, 'exact', {}],
  ['regression of Weight, hist, depth 10', 'Weight', true, 'hist', { max_depth: 10 }],
];

for (const [name, target, regression, splitter, params] of cases) {
  test(`the lockstep walk gives the plain walk's bits: ${name}`, { skip: noObesity }, () => {
    const data = obesityMatrix(target, regression);
    const forest = fitForest(data, splitFeatures(data, splitter), { ...DEFAULT_FOREST_PARAMS, n_estimators: 22, ...params }, 7);
    const reloaded = forestFromJson(JSON.parse(JSON.stringify(forestToJson(forest))));
    // 2,111 rows: 527 groups of four and a tail of 3; 5,000 rows cross the first block; 1 and 2 rows are tails alone
    for (const n of [1, 2, data.nRows, 5000]) {
      for (const nan of [false, true]) {
        const m = resized(data, n, nan);
        const expected = plainWalk(forest, m);
        assertSameBits(predictProba(forest, m), expected, `${n} rows${nan ? ' with NaN' : ''}`);
        assertSameBits(predictProba(reloaded, m), expected, `${n} rows${nan ? ' with NaN' : ''}, reloaded`);
      }
    }
    const rows = Int32Array.from({ length: 1001 }, (_, i) => (i * 7919) % data.nRows);
    assertSameBits(predictProba(forest, data, rows), plainWalk(forest, data, rows), 'a subset of rows, out of order');
  });
}

test('a damaged tree is refused when the forest is read, naming the tree', () => {
  const leaf = (value: number) => ({ feature: [0], threshold: [0], left: [-1], right: [0], leafValues: [value] });
  const stump = { feature: [1, 0, 0], threshold: [0.5, 0, 0], left: [1, -1, -1], right: [2, 0, 1], leafValues: [1, 2] };
  const json = (tree: Record<string, number[]>) => ({ n_classes: 1, trees: [leaf(3), tree] });
  const forest = forestFromJson(json(stump));
  assertSameBits(predictProba(forest, { nRows: 2, nFeatures: 2, X: Float64Array.of(0, 0, 0, 1) }), Float64Array.of(2, 2.5), 'a valid stump');
  const damaged: [Record<string, number[]>, RegExp][] = [
    [{ ...stump, left: [0, -1, -1] }, /^Error: tree 1: node 0 has a child outside the tree or reached twice$/],
    [{ ...stump, right: [3, 0, 1] }, /^Error: tree 1: node 0 has a child outside the tree or reached twice$/],
    [{ ...stump, left: [1, 1, -1] }, /^Error: tree 1: node 1 has a child outside the tree or reached twice$/],
    [{ ...stump, right: [2, 0, 2] }, /^Error: tree 1: leaf 2 points outside its values$/],
    [{ ...stump, feature: [-1, 0, 0] }, /^Error: tree 1: node 0 splits on a negative feature$/],
    [{ ...stump, left: [1, -1] }, /^Error: tree 1: node fields of different lengths$/],
    [{ feature: [], threshold: [], left: [], right: [], leafValues: [] }, /^Error: tree 1: no nodes$/],
  ];
  for (const [tree, message] of damaged) assert.throws(() => forestFromJson(json(tree)), message);
  // a model file's own shape: its class count, and features enough for every split
  assert.throws(() => forestFromJson(json(stump), { nClasses: 1, nFeatures: 1 }), /^Error: the forest splits on feature 1, the model file has 1 features$/);
  assert.throws(() => forestFromJson(json(stump), { nClasses: 2, nFeatures: 2 }), /^Error: the forest has 1 classes, the model file 2$/);
  assert.throws(() => predictProba(forest, { nRows: 1, nFeatures: 1, X: Float64Array.of(0) }), /the forest splits on feature 1 but the data has 1 features/);
});
