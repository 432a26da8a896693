import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluate } from '../src/ml/evaluate.js';
import { prepare } from '../src/ml/prepare.js';
import { generateObesity } from '../src/ml/synthetic.js';
import { trainGridSearch } from '../src/ml/train.js';
import type { RunEndStatus, TrackedRun } from '../src/tracking/run.js';
import { MLOPS_BIN, runMlops, tempDir, writeFiles } from './helpers.js';

/** Records what a stage logs, in memory. */
class Recorder implements TrackedRun {
  readonly params: Record<string, unknown> = {};
  readonly metrics: { key: string; value: number; step?: number }[] = [];
  readonly tags: Record<string, string> = {};
  readonly artifacts: string[] = [];
  readonly children: Recorder[] = [];
  status?: RunEndStatus;
  constructor(readonly runId: string) {}
  async logParams(params: Record<string, unknown>) {
    Object.assign(this.params, params);
  }
  async logMetric(key: string, value: number, step?: number) {
    this.metrics.push({ key, value, step });
  }
  async logMetrics(metrics: Record<string, number>, step?: number) {
    for (const [key, value] of Object.entries(metrics)) this.metrics.push({ key, value, step });
  }
  async setTags(tags: Record<string, string>) {
    Object.assign(this.tags, tags);
  }
  async logArtifact(localPath: string) {
    this.artifacts.push(localPath.replace(/\\/g, '/').split('/').slice(-2).join('/'));
  }
  async startChild(name: string) {
    const child = new Recorder(name);
    this.children.push(child);
    return child;
  }
  async end(status: RunEndStatus) {
    this.status = status;
  }
  metric(key: string) {
    return this.metrics.filter((m) => m.key === key);
  }
}

test('prepare, train and evaluate log params, metrics, candidates and artifacts through a TrackedRun', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'data/raw/obesity.csv': generateObesity(210, 2),
    'params.yaml': `prepare:
  input: data/raw/obesity.csv
  target: NObeyesdad
train:
  cv_folds: 3
  scoring: accuracy
  workers: 1
  grid:
    n_estimators: [5]
    max_features: [sqrt, 0.5]
evaluate:
  permutation_repeats: 1
`,
  });
  const prep = new Recorder('prepare');
  await prepare(dir, prep);
  assert.deepEqual(prep.params, { input: 'data/raw/obesity.csv', target: 'NObeyesdad' });
  assert.equal(prep.metric('train_rows')[0]!.value + prep.metric('test_rows')[0]!.value, 210);
  assert.deepEqual(prep.artifacts, ['models/transform.json']);

  const train = new Recorder('train');
  const summary = await trainGridSearch(dir, { run: train });
  assert.deepEqual(train.params.grid, { n_estimators: [5], max_features: ['sqrt', 0.5] });
  assert.equal(train.children.length, 2);
  summary.search.candidates.forEach((c, i) => {
    const child = train.children[i]!;
    assert.deepEqual(child.params, c.params);
    assert.deepEqual(child.metric('cv_accuracy').map((m) => [m.value, m.step]), c.fold_scores.map((s, fold) => [s, fold]), 'one step per fold');
    assert.deepEqual(child.metric('accuracy').map((m) => m.value), [c.mean_score], 'the scoring metric is the CV mean');
    assert.equal(child.metric('accuracy_std')[0]!.value, c.std_score);
    assert.equal(child.status, 'FINISHED');
  });
  assert.equal(train.metric('best_cv_accuracy')[0]!.value, summary.bestScore);
  assert.deepEqual(train.artifacts, ['models/model.json', 'reports/cv_results.json']);
  assert.equal(train.status, undefined, 'the caller ends the run it started');

  const ev = new Recorder('evaluate');
  const result = await evaluate(dir, ev);
  assert.equal(ev.metric('accuracy')[0]!.value, result.metrics.accuracy);
  assert.equal(ev.metric('log_loss')[0]!.value, result.metrics.log_loss);
  assert.deepEqual(ev.artifacts, ['reports/metrics.json', 'reports/per_class.json', 'reports/confusion_matrix.csv', 'reports/feature_importance.csv']);
});

/** A project prepared through the CLI with the given train grid, and a reader of its mlruns/0 folder. */
async function preparedProject(t: { after(fn: () => void): void }, grid: string) {
  const dir = tempDir(t);
  writeFiles(dir, {
    'data/raw/obesity.csv': generateObesity(210, 4),
    'params.yaml': `prepare:\n  input: data/raw/obesity.csv\n  target: NObeyesdad\ntrain:\n  cv_folds: 3\n  workers: 2\n  grid:\n${grid}`,
  });
  const r = await runMlops(['prepare'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const runsDir = join(dir, 'mlruns/0');
  const file = (id: string, path: string) => (existsSync(join(runsDir, id, path)) ? readFileSync(join(runsDir, id, path), 'utf8') : undefined);
  return {
    dir,
    file,
    tag: (id: string, key: string) => file(id, `tags/${key}`),
    status: (id: string) => file(id, 'meta.yaml')!.match(/^status: (\d)$/m)![1],
    runIds: () => readdirSync(runsDir).filter((id) => existsSync(join(runsDir, id, 'meta.yaml'))),
  };
}

test('through the CLI, the train run holds one nested run per candidate with its fold scores', async (t) => {
  const { dir, file, tag, status, runIds } = await preparedProject(t, '    n_estimators: [5]\n    max_depth: [3, null]\n');
  const r = await runMlops(['train'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const cv = JSON.parse(readFileSync(join(dir, 'reports/cv_results.json'), 'utf8'));
  const trainRuns = runIds().filter((id) => tag(id, 'mlops.stage') === 'train' && tag(id, 'mlflow.parentRunId') === undefined);
  assert.equal(trainRuns.length, 1);
  const parent = trainRuns[0]!;
  assert.equal(status(parent), '3', 'the train run FINISHED');
  const children = runIds().filter((id) => tag(id, 'mlflow.parentRunId') === parent);
  assert.deepEqual(children.map((id) => tag(id, 'mlflow.runName')).sort(), ['candidate-0', 'candidate-1']);
  for (const id of children) {
    const c = cv.candidates[Number(tag(id, 'mlflow.runName')!.split('-')[1])];
    assert.equal(file(id, 'params/max_depth'), String(c.params.max_depth));
    const folds = file(id, 'metrics/cv_f1_macro')!.trim().split('\n').map((line) => line.split(' ').slice(1).map(Number));
    assert.deepEqual(folds, c.fold_scores.map((s: number, fold: number) => [s, fold]), 'one line per fold: score, step = fold');
    const scored = file(id, 'metrics/f1_macro')!.trim().split('\n');
    assert.deepEqual(scored.map((line) => Number(line.split(' ')[1])), [c.mean_score], 'f1_macro, the scoring metric, is the CV mean');
    assert.equal(status(id), '3');
  }
  assert.equal(tag(parent, 'best_candidate'), `candidate-${cv.best_index}`);
});

test('Ctrl-C during the grid search stops the workers at once: the train run ends FAILED, no model written', async (t) => {
  const grid = '    n_estimators: [300]\n    max_depth: [3, 4, 5, 6, 7, 8, 9, null]\n    min_samples_leaf: [1, 2, 3, 4, 5]\n';
  const { dir, tag, status, runIds } = await preparedProject(t, grid);
  const child = spawn(process.execPath, [MLOPS_BIN, 'train'], { cwd: dir, env: { ...process.env, CI: 'true', MLOPS_ROOT: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exit = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('close', (code, signal) => resolve(signal ?? code)));
  // once the first candidate is done the workers are busy with the rest
  let stdout = '';
  const started = new Promise<void>((resolve) => child.stdout.on('data', (d) => (stdout += d).includes('(1/40 done)') && resolve()));
  await Promise.race([started, exit]);
  const interrupted = Date.now();
  child.kill('SIGINT');
  assert.equal(await exit, 130, stderr);
  assert.ok(Date.now() - interrupted < 5000, 'no wait for the running fits');
  assert.ok(!existsSync(join(dir, 'models/model.json')));
  const trainRuns = runIds().filter((id) => tag(id, 'mlops.stage') === 'train');
  assert.deepEqual(trainRuns.map(status), ['4'], 'one train run, FAILED');
  // Its params were logged before the search began.
  assert.equal(readFileSync(join(dir, 'mlruns/0', trainRuns[0]!, 'params/cv_folds'), 'utf8'), '3');
});
