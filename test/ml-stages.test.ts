import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatNumber } from '../src/core/csv.js';
import { forestFromJson, forestToJson } from '../src/ml/forest.js';
import { generateObesity } from '../src/ml/synthetic.js';
import { runMlops, tempDir, writeFiles, smallParams } from './helpers.js';

// The stages end to end through the real CLI, on a small generated data set.

const PARAMS = smallParams({
  folds: 3,
  train: '  scoring: f1_macro\n  seed: 5\n  workers: 2\n',
  grid: { n_estimators: [15], max_depth: [6, null] },
  rest: 'evaluate:\n  permutation_repeats: 2\n  thresholds:\n    accuracy: {min: 0.5}\n',
});

function project(t: { after(fn: () => void): void }, params = PARAMS): string {
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': params, 'data/raw/obesity.csv': generateObesity(280, 11) });
  return dir;
}

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

/** A saved forest whose first tree's root is its own left child: a walk would never end. */
function cyclic(json: unknown): unknown {
  const forest = forestFromJson(json);
  (forest.trees[0]!.left as Int32Array)[0] = 0;
  return forestToJson(forest);
}

test('prepare -> train -> evaluate -> predict on the example layout', async (t) => {
  const dir = project(t);
  const prep = await runMlops(['prepare'], { cwd: dir });
  assert.equal(prep.code, 0, prep.stderr);
  const train = read(dir, 'data/prepared/train.csv').trim().split('\n');
  const test = read(dir, 'data/prepared/test.csv').trim().split('\n');
  assert.equal(train.length - 1 + test.length - 1, 280);
  assert.ok(train[0]!.endsWith(',NObeyesdad'), 'the target keeps its name, last');

  const tr = await runMlops(['train'], { cwd: dir });
  assert.equal(tr.code, 0, tr.stderr);
  assert.match(tr.stdout, /^candidate-[01]: .* \(1\/2 done\)$/m, 'plain progress lines off a terminal, named by grid place');
  const cv = JSON.parse(read(dir, 'reports/cv_results.json'));
  assert.equal(cv.candidates.length, 2);
  assert.deepEqual(cv.candidates.map((c: { params: unknown }) => c.params), [{ max_depth: 6, n_estimators: 15 }, { max_depth: null, n_estimators: 15 }]);
  for (const c of cv.candidates) {
    assert.equal(c.fold_scores.length, 3);
    const mean = c.fold_scores.reduce((a: number, b: number) => a + b) / 3;
    assert.ok(Math.abs(c.mean_score - mean) < 1e-12);
    assert.ok(Math.abs(c.std_score - Math.sqrt(c.fold_scores.reduce((a: number, s: number) => a + (s - mean) ** 2, 0) / 3)) < 1e-12);
  }
  assert.equal(cv.candidates[cv.best_index].rank, 1);
  assert.deepEqual(cv.best_params, cv.candidates[cv.best_index].params);
  assert.equal(cv.best_score, cv.candidates[cv.best_index].mean_score);
  const model = read(dir, 'models/model.json');

  // same seed, same model
  const again = await runMlops(['train', '--json'], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(read(dir, 'models/model.json'), model);
  assert.equal(JSON.parse(again.stdout).best_score, cv.best_score);

  const ev = await runMlops(['evaluate', '--json'], { cwd: dir });
  assert.equal(ev.code, 0, ev.stderr);
  const metrics = JSON.parse(read(dir, 'reports/metrics.json'));
  for (const key of ['accuracy', 'f1_macro', 'precision_macro', 'recall_macro', 'balanced_accuracy', 'log_loss', 'brier']) {
    assert.equal(typeof metrics[key], 'number', key);
  }
  // Per-class scores have their own file; metrics.json keeps the headline metrics (tables stay narrow).
  assert.deepEqual(Object.keys(metrics).sort(), ['accuracy', 'balanced_accuracy', 'brier', 'f1_macro', 'log_loss', 'n_test', 'precision_macro', 'recall_macro']);
  const perClass = JSON.parse(read(dir, 'reports/per_class.json'));
  assert.equal(Object.keys(perClass).length, 7);
  for (const scores of Object.values(perClass) as Record<string, number>[]) assert.equal(typeof scores.f1, 'number');
  const confusion = read(dir, 'reports/confusion_matrix.csv').trim().split('\n');
  assert.equal(confusion[0], 'actual,predicted');
  assert.equal(confusion.length - 1, test.length - 1, 'one row per test row');
  const correct = confusion.slice(1).filter((l) => l.split(',')[0] === l.split(',')[1]).length;
  assert.ok(Math.abs(correct / (confusion.length - 1) - metrics.accuracy) < 1e-12, 'the confusion rows agree with accuracy');
  const importance = read(dir, 'reports/feature_importance.csv').trim().split('\n');
  assert.equal(importance[0], 'feature,importance_mean,importance_std');
  assert.equal(importance.length - 1, 16, 'one row per raw feature column');

  const pr = await runMlops(['predict', '--model', 'models/model.json', '--input', 'data/raw/obesity.csv', '--output', 'out/predictions.csv'], { cwd: dir });
  assert.equal(pr.code, 0, pr.stderr);
  const predictions = read(dir, 'out/predictions.csv').trim().split('\n');
  assert.equal(predictions[0], 'prediction,' + JSON.parse(model).classes.map((c: string) => `proba_${c}`).join(','));
  assert.equal(predictions.length - 1, 280);
  const raw = read(dir, 'data/raw/obesity.csv').trim().split('\n').slice(1);
  const hits = predictions.slice(1).filter((line, i) => line.split(',')[0] === raw[i]!.split(',').at(-1)).length;
  assert.ok(hits / 280 >= metrics.accuracy - 0.05, 'predict applies the same transform and model (training rows included)');
  for (const line of predictions.slice(1)) {
    const sum = line.split(',').slice(1).reduce((a, v) => a + Number(v), 0);
    assert.ok(Math.abs(sum - 1) < 1e-9);
  }

  // input without a column the model was trained with: exit 2, no output file
  writeFileSync(join(dir, 'no-age.csv'), read(dir, 'data/raw/obesity.csv').replace(/^Gender,Age,/, 'Gender,Years,'));
  const bad = await runMlops(['predict', '--model', 'models/model.json', '--input', 'no-age.csv', '--output', 'out/bad.csv'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: no-age\.csv: 'Age': column missing from the input/);
  assert.ok(!existsSync(join(dir, 'out/bad.csv')));

  // a transform.json beside the model that another prepare wrote: named by its path, exit 2
  const transform = JSON.parse(read(dir, 'models/transform.json'));
  writeFiles(dir, { 'other/model.json': model, 'other/transform.json': JSON.stringify({ ...transform, features: transform.features.slice(1) }) });
  const other = await runMlops(['predict', '--model', 'other/model.json', '--input', 'data/raw/obesity.csv'], { cwd: dir });
  assert.equal(other.code, 2);
  assert.match(other.stderr, /^error: other\/transform\.json: the transform's features differ from the model's/);

  // damaged artifacts: one located line, exit 2, no stack trace
  const damaged: [Record<string, string>, RegExp][] = [
    [{ 'other/model.json': JSON.stringify({ ...JSON.parse(model), classes: 'x' }) }, /^error: other\/model\.json: 'classes': expected a list of names; the file is damaged/],
    [{ 'other/model.json': JSON.stringify({ ...JSON.parse(model), model: {} }) }, /^error: other\/model\.json: 'model': cannot load \(.*\); the file is damaged/],
    [{ 'other/model.json': JSON.stringify({ ...JSON.parse(model), model: cyclic(JSON.parse(model).model) }) }, /^error: other\/model\.json: 'model': cannot load \(tree 0: node 0 has a child outside the tree or reached twice\); the file is damaged/],
    [
      { 'other/model.json': model, 'other/transform.json': JSON.stringify({ ...transform, columns: [{ name: 'Age', kind: 'numeric' }] }) },
      /^error: other\/transform\.json: 'columns\.0': unexpected content; the file is damaged, rerun prepare/,
    ],
  ];
  for (const [files, message] of damaged) {
    writeFiles(dir, files);
    const r = await runMlops(['predict', '--model', 'other/model.json', '--input', 'data/raw/obesity.csv'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});

test('prepare writes prepared rows that the saved transform reproduces from the raw rows', async (t) => {
  const dir = project(t);
  assert.equal((await runMlops(['prepare'], { cwd: dir })).code, 0);
  const { readRawCsv } = await import('../src/ml/raw.js');
  const { applyTransform } = await import('../src/ml/transform.js');
  const transform = JSON.parse(read(dir, 'models/transform.json'));
  const raw = await readRawCsv(join(dir, 'data/raw/obesity.csv'));
  const labels = raw.values[raw.columns.indexOf('NObeyesdad')]!;
  const expected = applyTransform(transform, raw).map((r, i) => [...r, labels[i]].join(',')).sort();
  const prepared = ['train', 'test'].flatMap((p) => read(dir, `data/prepared/${p}.csv`).trim().split('\n').slice(1)).sort();
  assert.deepEqual(prepared, expected);
});

test('predict on the raw rows gives exactly what the model gives on the prepared rows (scaled, ordinal)', async (t) => {
  const dir = project(t, PARAMS.replace('  seed: 3\n', '  seed: 3\n  scaling: standard\n  encoding: ordinal\n').replace('max_depth: [6, null]', 'max_depth: [6]'));
  for (const stage of ['prepare', 'train']) assert.equal((await runMlops([stage], { cwd: dir })).code, 0);
  const pr = await runMlops(['predict', '--model', 'models/model.json', '--input', 'data/raw/obesity.csv'], { cwd: dir });
  assert.equal(pr.code, 0, pr.stderr);
  const { readModelFile } = await import('../src/ml/model-file.js');
  const { readDataset } = await import('../src/ml/dataset.js');
  const { argmaxRows } = await import('../src/ml/forest.js');
  const saved = await readModelFile(join(dir, 'models/model.json'));
  const expected = ['train', 'test'].flatMap((part) => {
    const { data } = readDataset(join(dir, `data/prepared/${part}.csv`), 'NObeyesdad', 'classification', saved.classes);
    const proba = saved.model.predictProba(data);
    const C = data.nClasses;
    return Array.from(argmaxRows(proba, C), (k, i) => [saved.classes[k], ...Array.from(proba.subarray(i * C, (i + 1) * C), formatNumber)].join(','));
  });
  assert.deepEqual(pr.stdout.trim().split('\n').slice(1).sort(), expected.sort());
});

test('a failed quality gate exits 1 after writing the reports, naming every failed gate', async (t) => {
  const dir = project(t, PARAMS.replace('accuracy: {min: 0.5}', 'accuracy: {min: 0.999}\n    log_loss: {max: 0.001}\n    brier: {max: 5}'));
  for (const stage of ['prepare', 'train']) assert.equal((await runMlops([stage], { cwd: dir })).code, 0);
  const ev = await runMlops(['evaluate'], { cwd: dir });
  assert.equal(ev.code, 1);
  assert.match(ev.stderr, /^error: quality gates failed: accuracy [\d.]+ < min 0\.999; log_loss [\d.]+ > max 0\.001 /);
  assert.doesNotMatch(ev.stderr, /brier/);
  for (const f of ['reports/metrics.json', 'reports/confusion_matrix.csv', 'reports/feature_importance.csv']) assert.ok(existsSync(join(dir, f)), f);
});

test('every bad input exits 2 with one located line and writes nothing', async (t) => {
  // a prepared project to start train and evaluate cases from
  const base = project(t);
  assert.equal((await runMlops(['prepare'], { cwd: base })).code, 0);
  const rawText = generateObesity(280, 11);
  const lines = rawText.split('\n');
  lines[5] = lines[5]!.replace(/^(\w+),\d+,/, '$1,abc,');
  const cases: { name: string; stage: string; params?: string; raw?: string; prepared?: boolean; message: RegExp; untouched: string[] }[] = [
    { name: 'missing target column', stage: 'prepare', params: PARAMS.replace('target: NObeyesdad', 'target: Obesity'), message: /^error: params\.yaml:3: 'prepare\.target': no column 'Obesity'/, untouched: ['data/prepared', 'models'] },
    { name: 'non-numeric value', stage: 'prepare', raw: lines.join('\n'), message: /^error: data\/raw\/obesity\.csv:6: 'Age': non-numeric value "abc"/, untouched: ['data/prepared', 'models'] },
    { name: 'empty file', stage: 'prepare', raw: '', message: /^error: data\/raw\/obesity\.csv: empty file/, untouched: ['data/prepared', 'models'] },
    { name: 'unknown prepare key', stage: 'prepare', params: PARAMS.replace('  seed: 3', '  seeed: 3'), message: /^error: params\.yaml:5: 'prepare\.seeed': unknown key \(did you mean 'seed'\?\)/, untouched: ['data/prepared'] },
    { name: 'fewer class members than folds', stage: 'train', prepared: true, params: PARAMS.replace('cv_folds: 3', 'cv_folds: 40'), message: /^error: params\.yaml:7: 'train\.cv_folds': class '\w+' has \d+ rows in data\/prepared\/train\.csv, fewer than the 40 folds/, untouched: ['models/model.json', 'reports'] },
    { name: 'unknown grid key', stage: 'train', prepared: true, params: PARAMS.replace('max_depth: [6, null]', 'max_dept: [6, null]'), message: /^error: params\.yaml:13: 'train\.grid\.max_dept': unknown key \(did you mean 'max_depth'\?\)/, untouched: ['models/model.json', 'reports'] },
    { name: 'empty grid', stage: 'train', prepared: true, params: PARAMS.replace(/ {2}grid:\n(.*\n){2}/, '  grid: {}\n'), message: /^error: params\.yaml:11: 'train\.grid': the grid is empty/, untouched: ['models/model.json', 'reports'] },
    { name: 'empty grid list', stage: 'train', prepared: true, params: PARAMS.replace('n_estimators: [15]', 'n_estimators: []'), message: /^error: params\.yaml:12: 'train\.grid\.n_estimators': empty list of values/, untouched: ['models/model.json', 'reports'] },
    { name: 'bad grid value', stage: 'train', prepared: true, params: PARAMS.replace('max_depth: [6, null]', 'max_depth: [6, deep]'), message: /^error: params\.yaml:13: 'train\.grid\.max_depth\.1': expected an integer >= 1 or null/, untouched: ['models/model.json', 'reports'] },
    { name: 'bad scoring', stage: 'train', prepared: true, params: PARAMS.replace('scoring: f1_macro', 'scoring: f1'), message: /^error: params\.yaml:8: 'train\.scoring': expected one of f1_macro, accuracy, balanced_accuracy/, untouched: ['models/model.json', 'reports'] },
    { name: 'unknown gate metric', stage: 'evaluate', prepared: true, params: PARAMS.replace('accuracy: {min: 0.5}', 'acuracy: {min: 0.5}'), message: /^error: params\.yaml:17: 'evaluate\.thresholds\.acuracy': unknown key \(did you mean 'accuracy'\?\)/, untouched: ['reports/metrics.json', 'reports/confusion_matrix.csv'] },
  ];
  await Promise.all(
    cases.map(async (c) => {
      const dir = tempDir(t);
      if (c.prepared) cpSync(base, dir, { recursive: true });
      else writeFiles(dir, { 'data/raw/obesity.csv': rawText });
      writeFileSync(join(dir, 'params.yaml'), c.params ?? PARAMS);
      if (c.raw !== undefined) writeFileSync(join(dir, 'data/raw/obesity.csv'), c.raw);
      if (c.stage === 'evaluate') assert.equal((await runMlops(['train'], { cwd: dir })).code, 0, 'the broken evaluate section does not concern train');
      const r = await runMlops([c.stage], { cwd: dir });
      assert.equal(r.code, 2, `${c.name}: ${r.stderr}`);
      assert.match(r.stderr, c.message, c.name);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${c.name}: one line`);
      for (const path of c.untouched) assert.ok(!existsSync(join(dir, path)), `${c.name}: ${path} written`);
    }),
  );
});
