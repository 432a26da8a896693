import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateObesity } from '../src/ml/synthetic.js';
import { PROJECT_ROOT, runMlops, tempDir, writeFiles } from './helpers.js';

// The default example's own pipeline.yaml and params.yaml (a smaller grid), on generated data.

function example(t: { after(fn: () => void): void }): string {
  const dir = tempDir(t);
  const params = readFileSync(join(PROJECT_ROOT, 'params.yaml'), 'utf8')
    .replace('n_estimators: [50, 100]', 'n_estimators: [5]')
    .replace('max_depth: [10, null]', 'max_depth: [6]')
    .replace('cv_folds: 5', 'cv_folds: 2\n  workers: 1')
    .replace('accuracy: {min: 0.75}', 'accuracy: {min: 0}')
    .replace('log_loss: {max: 0.8}', 'log_loss: {max: 100}')
    // the registry's promotion gates too: these tests are about the data stages
    .replace('accuracy: {min: 0.5}', 'accuracy: {min: 0}')
    .replace('log_loss: {max: 1.05}', 'log_loss: {max: 100}')
    .replace('brier: {max: 0.60}', 'brier: {max: 100}')
    .replace('tolerance: 0.01', 'tolerance: 1');
  writeFiles(dir, {
    'pipeline.yaml': readFileSync(join(PROJECT_ROOT, 'pipeline.yaml'), 'utf8'),
    'params.yaml': params,
    'data/raw/obesity.csv': generateObesity(150, 2),
  });
  return dir;
}

const ranStages = (stdout: string) => [...stdout.matchAll(/^(\w+): running/gm)].map((m) => m[1]);

test('the example drift stage tests the raw feature columns, not one-hot columns or the target', async (t) => {
  const dir = example(t);
  const r = await runMlops(['repro'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const report = JSON.parse(readFileSync(join(dir, 'reports/drift.json'), 'utf8'));
  const header = readFileSync(join(dir, 'data/raw/obesity.csv'), 'utf8').split('\n')[0]!.split(',');
  assert.deepEqual(Object.keys(report.columns), header.filter((c) => c !== 'NObeyesdad'));
  assert.equal(report.columns.Gender.type, 'categorical');
  assert.equal(report.columns.Age.type, 'numeric');
});

test('the example follows prepare.input: its dependency is the file the param names', async (t) => {
  const dir = example(t);
  writeFiles(dir, { 'data/mine.csv': generateObesity(150, 3) });
  const params = readFileSync(join(dir, 'params.yaml'), 'utf8').replace('input: data/raw/obesity.csv', 'input: data/mine.csv');
  writeFiles(dir, { 'params.yaml': params });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  // editing the file prepare.input names re-runs prepare (before: the dep was data/raw/obesity.csv)
  writeFiles(dir, { 'data/mine.csv': generateObesity(150, 4) });
  const again = await runMlops(['repro'], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.ok(ranStages(again.stdout).includes('prepare'), again.stdout);
  const status = await runMlops(['status'], { cwd: dir });
  assert.doesNotMatch(status.stdout, /obesity\.csv/);
});
