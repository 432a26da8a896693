import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { argmaxRows, DEFAULT_FOREST_PARAMS, fitAndPredict, fitForest, forestFromJson, forestToJson, predictProba, type Forest, type ForestParams } from '../src/ml/forest.js';
import { binFeatures, HistTreeBuilder, MAX_BINS, MAX_LIVE_HISTOGRAMS } from '../src/ml/hist.js';
import { encodeFeatures, fromRows, type LabelledMatrix } from '../src/ml/matrix.js';
import { accuracy } from '../src/ml/metrics.js';
import { Rng } from '../src/ml/random.js';
import { generateObesity } from '../src/ml/synthetic.js';
import { OBESITY_CSV, obesityMatrix, runMlops, tempDir, writeFiles } from './helpers.js';

// The histogram splitter (train.splitter: hist) against the exact one, and through train/predict.

/** Classes from two oblique lines, 2 noise features; `levels` distinct values per feature (0: continuous). */
function problem(n: number, seed: number, levels = 0): LabelledMatrix {
  const rng = new Rng(seed);
  const u = () => {
    const x = rng.nextU32() / 4294967296;
    return levels ? Math.floor(x * levels) / levels : x;
  };
  const rows: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = [u() * 10, u() * 10, u(), u()];
    rows.push(row);
    // a little label noise so trees grow deep and leaves are not all pure
    const noisy = rng.nextU32() % 20 === 0;
    y.push(noisy ? rng.nextU32() % 3 : row[0]! + row[1]! < 8 ? 0 : row[0]! > row[1]! ? 1 : 2);
  }
  return { ...fromRows(rows, 4), y: Int32Array.from(y), nClasses: 3 };
}

const PARAMS: ForestParams = { ...DEFAULT_FOREST_PARAMS, n_estimators: 20 };

test('binning: at most 255 bins, one per value when a feature has few, every value in a bin that brackets it', () => {
  const data = problem(3000, 1);
  const few = problem(3000, 1, 40);
  const binned = binFeatures(data);
  const binnedFew = binFeatures(few);
  for (let f = 0; f < data.nFeatures; f++) {
    assert.ok(binned.lo[f]!.length <= MAX_BINS);
    assert.equal(binnedFew.lo[f]!.length, new Set(few.X.subarray(f * 3000, (f + 1) * 3000)).size, 'one bin per distinct value');
    for (let i = 0; i < data.nRows; i++) {
      const b = binned.bins[f * data.nRows + i]!;
      const x = data.X[f * data.nRows + i]!;
      assert.ok(binned.lo[f]![b]! <= x && x <= binned.hi[f]![b]!);
      if (b > 0) assert.ok(binned.hi[f]![b - 1]! < x, 'bins are ordered');
    }
  }
});

test('with at most 255 distinct values per feature, the hist forest is the exact forest', () => {
  const data = problem(4000, 2, 200);
  const rows = Int32Array.from({ length: 3000 }, (_, i) => i);
  const cases: Partial<ForestParams>[] = [{}, { max_features: null, max_depth: 6, min_samples_leaf: 3 }, { bootstrap: false, max_features: 'log2', min_samples_split: 5 }];
  for (const p of cases) {
    const params = { ...PARAMS, ...p };
    const exact = forestToJson(fitForest(data, encodeFeatures(data), params, 11, rows));
    const hist = forestToJson(fitForest(data, binFeatures(data), params, 11, rows));
    assert.deepEqual(hist, exact, JSON.stringify(p));
  }
  // regression too, on whole-number targets (sums exact in any order, so the proxies are the same numbers)
  const values = Float64Array.from({ length: data.nRows }, (_, i) => Math.round(data.X[i]! * 2 + data.X[data.nRows + i]!));
  const reg = { ...data, values, nClasses: 1, y: new Int32Array(data.nRows) };
  const params = { ...PARAMS, max_features: null, max_depth: 8 };
  assert.deepEqual(forestToJson(fitForest(reg, binFeatures(reg), params, 3, rows)), forestToJson(fitForest(reg, encodeFeatures(reg), params, 3, rows)));
});

test('with many features (the exact splitter moves a list only when a node scans it), the hist forest is still the exact forest', () => {
  // 40 features of 200 values: a node scans 6, so most lists skip levels and are brought up to date
  // from an ancestor's range, past finished nodes and into pending ones; deep trees, bagged and not.
  const base = problem(3000, 7, 200);
  const rng = new Rng(21);
  const rows = Array.from({ length: base.nRows }, (_, i) => [
    ...[0, 1, 2, 3].map((f) => base.X[f * base.nRows + i]!),
    ...Array.from({ length: 36 }, (_, k) => (k % 2 ? Math.floor(((base.X[(k % 4) * base.nRows + i]! + rng.nextU32() / 4294967296) * 100) % 200) : rng.nextU32() % 200)),
  ]);
  const wide: LabelledMatrix = { ...fromRows(rows, 40), y: base.y, nClasses: 3 };
  for (const p of [{}, { bootstrap: false, min_samples_leaf: 2 }, { max_depth: 7, max_features: 0.3 }] as Partial<ForestParams>[]) {
    const params = { ...PARAMS, n_estimators: 8, ...p };
    assert.deepEqual(forestToJson(fitForest(wide, binFeatures(wide), params, 17)), forestToJson(fitForest(wide, encodeFeatures(wide), params, 17)), JSON.stringify(p));
  }
});

test('few-valued features (the exact splitter scans them from histograms, lists the others) give the hist forest too', () => {
  const data = problem(4000, 5, 200);
  const rng = new Rng(9);
  // one-hot-like and small ordinal columns that carry the class, beside the many-valued ones
  const few = [2, 5, 8].map((levels) => Array.from({ length: data.nRows }, (_, i) => (data.y[i]! + (rng.nextU32() % 4 === 0 ? 1 : 0)) % levels));
  const rows = Array.from({ length: data.nRows }, (_, i) => [...[0, 1, 2, 3].map((f) => data.X[f * data.nRows + i]!), ...few.map((c) => c[i]!)]);
  const mixed: LabelledMatrix = { ...fromRows(rows, 7), y: data.y, nClasses: 3 };
  const fit = Int32Array.from({ length: 3000 }, (_, i) => i);
  for (const p of [{}, { max_features: null, max_depth: 5 }, { bootstrap: false, min_samples_leaf: 4 }] as Partial<ForestParams>[]) {
    const params = { ...PARAMS, ...p };
    const exact = fitForest(mixed, encodeFeatures(mixed), params, 13, fit);
    assert.deepEqual(forestToJson(fitForest(mixed, binFeatures(mixed), params, 13, fit)), forestToJson(exact), JSON.stringify(p));
    assert.ok(exact.trees.some((t) => t.feature.some((f) => f >= 4)), 'the few-valued features are split on');
  }
});

test('the hist forest is accurate on a separable problem with continuous features (> 255 values)', () => {
  const train = problem(4000, 3);
  const test = problem(2000, 4);
  const proba = predictProba(fitForest(train, binFeatures(train), { ...PARAMS, n_estimators: 30 }, 1), test);
  const hist = accuracy(test.y, argmaxRows(proba, 3));
  const exact = accuracy(test.y, argmaxRows(predictProba(fitForest(train, encodeFeatures(train), { ...PARAMS, n_estimators: 30 }, 1), test), 3));
  // 5% of the labels are random: about 0.95 is the ceiling
  assert.ok(hist >= 0.9, `hist accuracy ${hist}`);
  assert.ok(Math.abs(hist - exact) <= 0.01, `hist ${hist} vs exact ${exact}`);
});

test('hist: the same seed gives the same forest, another seed another; the forest round-trips through JSON', () => {
  const data = problem(2000, 5);
  const binned = binFeatures(data);
  const a = fitForest(data, binned, PARAMS, 7);
  assert.deepEqual(forestToJson(fitForest(data, binFeatures(data), PARAMS, 7)), forestToJson(a));
  assert.notDeepEqual(forestToJson(fitForest(data, binned, PARAMS, 8)), forestToJson(a));
  const reloaded = forestFromJson(JSON.parse(JSON.stringify(forestToJson(a))));
  assert.deepEqual(predictProba(reloaded, data), predictProba(a, data));
  // model files from before base64 fields hold plain number arrays: they still load, to the same forest
  const legacy = { n_classes: 3, trees: a.trees.map((t) => ({ feature: [...t.feature], threshold: [...t.threshold], left: [...t.left], right: [...t.right], leafValues: [...t.leafValues] })) };
  assert.deepEqual(forestFromJson(JSON.parse(JSON.stringify(legacy))), a);
});

test('scoring tree by tree (CV folds) gives what the kept forest gives, for both splitters', () => {
  const data = problem(1500, 6);
  const train = Int32Array.from({ length: 1000 }, (_, i) => i);
  const held = Int32Array.from({ length: 500 }, (_, i) => 1000 + i);
  for (const features of [encodeFeatures(data), binFeatures(data)]) {
    const forest = fitForest(data, features, PARAMS, 4, train);
    assert.deepEqual(fitAndPredict(data, features, PARAMS, 4, train, held), predictProba(forest, data, held));
  }
});

test('train with splitter: hist writes a model that predicts; a bad splitter is one located error', async (t) => {
  const params = (splitter: string, engine = 'forest') => `prepare:
  input: data/raw/obesity.csv
  target: NObeyesdad
  seed: 3
train:
  engine: ${engine}
  splitter: ${splitter}
  cv_folds: 3
  seed: 5
  workers: 2
  grid:
    n_estimators: [10]
`;
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': params('hist'), 'data/raw/obesity.csv': generateObesity(300, 4) });
  assert.equal((await runMlops(['prepare'], { cwd: dir })).code, 0);
  const tr = await runMlops(['train'], { cwd: dir });
  assert.equal(tr.code, 0, tr.stderr);
  const model = JSON.parse(readFileSync(join(dir, 'models/model.json'), 'utf8'));
  assert.equal(model.splitter, 'hist');
  assert.equal(JSON.parse(readFileSync(join(dir, 'reports/cv_results.json'), 'utf8')).splitter, 'hist');
  assert.ok(model.cv.score > 0.5, `cv score ${model.cv.score}`);
  const pred = await runMlops(['predict', '--input', 'data/raw/obesity.csv'], { cwd: dir });
  assert.equal(pred.code, 0, pred.stderr);
  assert.equal(pred.stdout.trim().split('\n').length, 301);

  writeFiles(dir, { 'params.yaml': params('histogram') });
  const bad = await runMlops(['train'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: params\.yaml:7: 'train\.splitter': expected one of exact, hist, got "histogram"\n$/);
  writeFiles(dir, { 'params.yaml': params('hist', 'ml-random-forest') });
  const other = await runMlops(['train'], { cwd: dir });
  assert.equal(other.code, 2);
  assert.match(other.stderr, /^error: params\.yaml:7: 'train\.splitter': ml-random-forest has its own splitter; splitter: hist needs engine: forest\n$/);
});

/** Every field of every tree the same to the bit (Object.is), and the forests' probabilities too. */
function assertSameForest(actual: Forest, expected: Forest, data: LabelledMatrix, what: string): void {
  assert.equal(actual.trees.length, expected.trees.length, what);
  actual.trees.forEach((tree, t) => {
    for (const field of ['feature', 'threshold', 'left', 'right', 'leafValues'] as const) {
      const [a, e] = [tree[field], expected.trees[t]![field]];
      assert.equal(a.length, e.length, `${what}: tree ${t} ${field} length`);
      for (let i = 0; i < e.length; i++) if (!Object.is(a[i], e[i])) assert.fail(`${what}: tree ${t} ${field}[${i}] is ${a[i]}, filled directly ${e[i]}`);
    }
  });
  const [pa, pe] = [predictProba(actual, data), predictProba(expected, data)];
  for (let i = 0; i < pe.length; i++) if (!Object.is(pa[i], pe[i])) assert.fail(`${what}: probability ${i} is ${pa[i]}, filled directly ${pe[i]}`);
}

/**
 * Sibling subtraction (every feature considered at every node, classification): the larger child's
 * histograms are the parent's minus the smaller child's. Against the same builder filling every node
 * directly (maxLive 0), and with room for only 2 or 3 histograms (deeper chains fill directly).
 */
function assertSubtractionExact(data: LabelledMatrix, cases: Partial<ForestParams>[], rows?: Int32Array): void {
  const binned = binFeatures(data);
  for (const p of cases) {
    const params = { ...PARAMS, ...p };
    const direct = fitForest(data, binned, params, 21, rows, new HistTreeBuilder(data, binned, 0));
    const subtracting = new HistTreeBuilder(data, binned);
    const forest = fitForest(data, binned, params, 21, rows, subtracting);
    assert.ok(subtracting.histogramsKept > 1, `${JSON.stringify(p)}: subtraction ran (${subtracting.histogramsKept} whole-node histograms)`);
    assert.ok(subtracting.histogramsKept <= MAX_LIVE_HISTOGRAMS);
    assertSameForest(forest, direct, data, JSON.stringify(p));
    for (const maxLive of [2, 3]) {
      const bounded = new HistTreeBuilder(data, binned, maxLive);
      assertSameForest(fitForest(data, binned, params, 21, rows, bounded), direct, data, `${JSON.stringify(p)}, at most ${maxLive} histograms`);
      assert.ok(bounded.histogramsKept <= maxLive);
    }
    // seeds reproduce with subtraction: the same forest again, another seed another forest
    assertSameForest(fitForest(data, binned, params, 21, rows), forest, data, `${JSON.stringify(p)}, again`);
    assert.notDeepEqual(forestToJson(fitForest(data, binned, params, 22, rows)), forestToJson(forest));
  }
}

const ALL_FEATURES: Partial<ForestParams>[] = [{ max_features: null }, { max_features: 1000, min_samples_leaf: 3 }, { max_features: null, bootstrap: false, max_depth: 12 }];

test('hist sibling subtraction gives the trees direct filling gives, to the bit: real obesity data', { skip: existsSync(OBESITY_CSV) ? false : `no ${OBESITY_CSV}` }, () => {
  const data = obesityMatrix('NObeyesdad', false);
  assertSubtractionExact(data, ALL_FEATURES);
  assertSubtractionExact(data, [{ max_features: null, n_estimators: 10 }], Int32Array.from({ length: 1500 }, (_, i) => (i * 7) % data.nRows));
});

test('hist sibling subtraction gives the trees direct filling gives, to the bit: continuous synthetic data, 7 classes', () => {
  // 12,000 rows of make_classification-like data (> 255 values per feature, so bins hold several values)
  const rng = new Rng(17);
  const n = 12000;
  const rows: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = rng.nextU32() % 7;
    const u = () => rng.nextU32() / 4294967296;
    rows.push([k + 2 * u(), Math.sin(k) * 3 + u() * 4, u() * 10, (k % 3) + u(), u(), Math.round(u() * 5)]);
    y.push(rng.nextU32() % 10 === 0 ? rng.nextU32() % 7 : k);
  }
  const data: LabelledMatrix = { ...fromRows(rows, 6), y: Int32Array.from(y), nClasses: 7 };
  assertSubtractionExact(data, [{ ...ALL_FEATURES[0], n_estimators: 6 }, { ...ALL_FEATURES[1], n_estimators: 6 }, { ...ALL_FEATURES[2], n_estimators: 4 }]);
});
