import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate } from '../src/ml/evaluate.js';
import { prepare } from '../src/ml/prepare.js';
import { generateObesity } from '../src/ml/synthetic.js';
import { trainGridSearch } from '../src/ml/train.js';
import type { RunEndStatus, TrackedRun } from '../src/tracking/run.js';
import { tempDir, writeFiles } from './helpers.js';

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
    assert.deepEqual(child.metric('accuracy').map((m) => [m.value, m.step]), c.fold_scores.map((s, fold) => [s, fold]), 'one step per fold');
    assert.equal(child.metric('accuracy_mean')[0]!.value, c.mean_score);
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
  assert.deepEqual(ev.artifacts, ['reports/metrics.json', 'reports/confusion_matrix.csv', 'reports/feature_importance.csv']);
});
