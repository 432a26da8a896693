import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { FileStore } from '../src/tracking/file-store.js';
import { emitMeta, readMeta } from '../src/tracking/meta-yaml.js';
import { startRun, withTrackedRun } from '../src/tracking/tracked-run.js';
import { Project } from '../src/project/project.js';
import { tempDir, writeFiles } from './helpers.js';
import { filesUnder, validateMlruns } from './tracking-validator.js';

test('runs written through startRun, children, artifacts, a failure and a delete satisfy every layout rule', async (t) => {
  const root = tempDir(t);
  writeFiles(root, { '.mlops/config': '[tracking]\n    experiment = grid search\n', 'model/model.json': '{"trees": []}', 'report.txt': 'ok' });
  const run = await startRun({ project: Project.open(root), stageName: 'train', params: { train: { max_depth: 10, criterion: "gini's", grid: [1, 2] } } });
  await run.logMetric('f1_macro', 0.93);
  await run.logMetric('f1_macro', 1, 1);
  await run.logMetrics({ 'cv/fold_score': 0.5, 'weird value': NaN, big: 1e21, small: 1e-7 }, 2);
  await run.setTags({ 'mlflow.note.content': 'multi\nline note' });
  await run.logArtifact(join(root, 'model'));
  await run.logArtifact(join(root, 'report.txt'), 'reports');
  const child = await run.startChild('candidate-1');
  await child.logParams({ max_depth: 5 });
  await child.logMetric('cv_score', 0.8, 0);
  await child.end('FINISHED');
  await run.end('FINISHED');
  await assert.rejects(withTrackedRun({ project: Project.open(root), stageName: 'evaluate' }, async () => { throw new Error('boom'); }), /boom/);

  const { store, dir } = { store: new FileStore(join(root, 'mlruns')), dir: join(root, 'mlruns') };
  await store.deleteRun(child.runId);
  assert.deepEqual(validateMlruns(dir), []);

  const experiments = await store.listExperiments();
  const grid = experiments.find((e) => e.name === 'grid search')!;
  assert.match(grid.experiment_id, /^[1-9]\d*$/, 'a new experiment gets a positive integer id');
  assert.ok(experiments.some((e) => e.experiment_id === '0' && e.name === 'Default'), 'the Default experiment 0 exists');
  const runDir = join(dir, grid.experiment_id, run.runId);
  assert.equal(readFileSync(join(runDir, 'params', 'train.criterion'), 'utf8'), "gini's");
  assert.equal(readFileSync(join(runDir, 'params', 'train.grid'), 'utf8'), '[1,2]');
  assert.equal(readFileSync(join(runDir, 'metrics', 'cv', 'fold_score'), 'utf8').split(' ').slice(1).join(' '), '0.5 2\n');
  assert.match(readFileSync(join(runDir, 'metrics', 'f1_macro'), 'utf8'), /^\d+ 0\.93 0\n\d+ 1\.0 1\n$/);
  assert.ok(existsSync(join(runDir, 'artifacts', 'model', 'model.json')));
  assert.ok(existsSync(join(runDir, 'artifacts', 'reports', 'report.txt')));
  const got = await store.getRun(run.runId);
  assert.equal(got.metrics.f1_macro, 1, 'latest value is the one at the highest step');
  assert.ok(Number.isNaN(got.metrics['weird value']));
  assert.equal(got.metrics.big, 1e21);
  assert.equal(got.tags['mlflow.note.content'], 'multi\nline note');
  assert.equal((await store.getRun(child.runId)).info.lifecycle_stage, 'deleted');
});

test('keys MLflow could not read are refused and nothing is written', async (t) => {
  const root = tempDir(t);
  const run = await startRun({ project: Project.open(root), stageName: 'train' });
  const store = new FileStore(join(root, 'mlruns'));
  const before = filesUnder(join(root, 'mlruns')).sort();
  for (const bad of ['../escape', 'a//b', 'x/', '/abs', 'a/./b', '.', '', 'semi;colon', 'é', 'k'.repeat(251)]) {
    await assert.rejects(run.logMetric(bad, 1), /invalid metric name/, `metric '${bad}'`);
    await assert.rejects(store.logParams(run.runId, { ok: '1', [bad]: '1' }), /invalid param name/, `param '${bad}'`);
    await assert.rejects(run.setTags({ [bad]: 'v' }), /invalid tag name/, `tag '${bad}'`);
  }
  await assert.rejects(run.logParams({ long: 'x'.repeat(6001) }), /limit is 6000/);
  await assert.rejects(run.setTags({ long: 'x'.repeat(5001) }), /limit is 5000/);
  await assert.rejects(store.logMetrics(run.runId, [{ key: 'm', value: 1, step: 0.5, timestamp: 1 }]), /step must be an integer/);
  await assert.rejects(run.logArtifact(join(root, 'no-such-file')), /artifact '.*no-such-file' not found/);
  await assert.rejects(run.logArtifact(join(root, 'mlruns', '0', 'meta.yaml'), '../..'), /must stay inside the run's artifacts/);
  assert.deepEqual(filesUnder(join(root, 'mlruns')).sort(), before);
});

test('a param keeps its first value: the same value again is fine, another is refused', async (t) => {
  const root = tempDir(t);
  const run = await startRun({ project: Project.open(root), stageName: 'train', params: { depth: 3 } });
  await run.logParams({ depth: 3 });
  await assert.rejects(run.logParams({ depth: 5 }), /param 'depth' .* was logged as '3'; a param cannot change/);
  assert.equal((await new FileStore(join(root, 'mlruns')).getRun(run.runId)).params.depth, '3');
});

test('meta.yaml: our fast reader agrees with a YAML 1.1 parser, and emitted text round-trips', () => {
  const tricky = ['0', '', 'yes', 'No', 'null', "it's", 'a: b', '#hash', 'multi\nline', '  padded ', '-1', '1e3', 'ünïcode', 'plain-name.1',
    '0123', '1_000', '2024-01-02', '0x1F', '12:30', '1234e5', '.5', '.inf', '+1', '9d6432e5efb94a1693bbe14c8726ac3b'];
  for (const value of tricky) {
    const text = emitMeta({ b: value, a: 1, c: null, d: [] });
    assert.deepEqual(parse(text, { version: '1.1' }), { a: 1, b: value, c: null, d: [] }, JSON.stringify(value));
    assert.deepEqual(readMeta(text), { a: 1, b: value, c: null, d: [] }, JSON.stringify(value));
  }
  // As PyYAML dumps them: a hex run id plain, a numeric-looking string quoted.
  assert.equal(emitMeta({ run_id: '9d6432e5efb94a1693bbe14c8726ac3b', experiment_id: '0' }), "experiment_id: '0'\nrun_id: 9d6432e5efb94a1693bbe14c8726ac3b\n");
  // Valid meta.yaml written by other tools in other styles falls back to the real parser.
  const styles = [
    'run_id: "abc"\nstatus: 3 # finished\n',
    "run_name: a long name that PyYAML\n  wrapped onto two lines\nstatus: 3\n",
    '{run_id: abc, status: 3}\n',
    'run_id: abc\nflag: yes\n',
  ];
  for (const text of styles) assert.deepEqual(readMeta(text), parse(text, { version: '1.1' }), text);
});
