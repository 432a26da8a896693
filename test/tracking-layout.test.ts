import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { FileStore } from '../src/tracking/file-store.js';
import { emitMeta, readMeta } from '../src/tracking/meta-yaml.js';
import { startRun, withTrackedRun } from '../src/tracking/tracked-run.js';
import { tempDir, writeFiles } from './helpers.js';

// A validator of MLflow's folder layout, written from the reference (not from our writer), run over
// folders our code produced.

const EXPERIMENT_FIELDS = ['artifact_location', 'creation_time', 'experiment_id', 'last_update_time', 'lifecycle_stage', 'name'];
const RUN_FIELDS = [
  'artifact_uri', 'deleted_time', 'end_time', 'entry_point_name', 'experiment_id', 'lifecycle_stage', 'run_id', 'run_name',
  'run_uuid', 'source_name', 'source_type', 'source_version', 'start_time', 'status', 'tags', 'user_id',
];
const METRIC_LINE = /^\d+ (-?\d+(\.\d+)?(e[+-]\d+)?|nan|inf|-inf) -?\d+$/;

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

function mlflowAcceptsKey(key: string): boolean {
  if (key.length > 250 || !/^[/\w.\- ]*$/.test(key)) return false;
  const norm = posix.normalize(key);
  return norm === key && norm !== '.' && !norm.startsWith('..') && !norm.startsWith('/') && !key.endsWith('/');
}

function checkMetaText(path: string, text: string, fields: string[], ids: string[], problems: string[]): Record<string, unknown> {
  const lines = text.split('\n').filter(Boolean);
  const keys = lines.map((l) => l.split(':')[0]!);
  if (keys.join() !== fields.join()) problems.push(`${path}: fields ${keys.join()} (want exactly, sorted: ${fields.join()})`);
  for (const line of lines) if (!/^[a-z_]+: \S/.test(line)) problems.push(`${path}: not one block-style 'key: value' line: ${line}`);
  const v11 = parse(text, { version: '1.1' }) as Record<string, unknown>;
  const v12 = parse(text, { version: '1.2' }) as Record<string, unknown>;
  // Ids are strings for every YAML reader (PyYAML reads 1.1); a numeric-looking one must be quoted.
  for (const id of ids) if (typeof v11[id] !== 'string' || typeof v12[id] !== 'string') problems.push(`${path}: ${id} does not read as a string`);
  if (/^experiment_id: '\d+'$/m.test(text) === false) problems.push(`${path}: experiment_id is not written quoted ('0')`);
  return v11;
}

function validateKeyFolder(dir: string, kind: string, problems: string[]): void {
  if (!existsSync(dir)) return;
  for (const key of filesUnder(dir)) {
    if (!mlflowAcceptsKey(key)) problems.push(`${dir}: ${kind} file name '${key}' breaks MLflow's reader`);
    const text = readFileSync(join(dir, key), 'utf8');
    if (kind === 'metric') {
      if (!text.endsWith('\n')) problems.push(`${dir}/${key}: metric file must end with a newline`);
      for (const line of text.split('\n').slice(0, -1)) if (!METRIC_LINE.test(line)) problems.push(`${dir}/${key}: bad metric line '${line}'`);
    } else if (text.endsWith('\n')) {
      problems.push(`${dir}/${key}: ${kind} value has a trailing newline`);
    }
  }
}

function validateRun(expDir: string, expId: string, artifactLocation: string, runId: string, problems: string[]): void {
  const dir = join(expDir, runId);
  if (!/^[0-9a-f]{32}$/.test(runId)) problems.push(`${dir}: run folder is not 32 lowercase hex characters`);
  const text = readFileSync(join(dir, 'meta.yaml'), 'utf8');
  const m = checkMetaText(join(dir, 'meta.yaml'), text, RUN_FIELDS, ['experiment_id', 'run_id', 'run_uuid'], problems);
  const expect = (ok: boolean, what: string) => ok || problems.push(`${dir}/meta.yaml: ${what}`);
  expect(m.run_id === runId && m.run_uuid === runId, 'run_id/run_uuid must equal the folder name');
  expect(m.experiment_id === expId, 'experiment_id must equal the experiment folder');
  expect(m.artifact_uri === `${artifactLocation}/${runId}/artifacts`, `artifact_uri ${String(m.artifact_uri)}`);
  expect(Number.isInteger(m.start_time), 'start_time must be an integer');
  expect(m.end_time === null || Number.isInteger(m.end_time), 'end_time must be null or an integer');
  expect(m.deleted_time === null || Number.isInteger(m.deleted_time), 'deleted_time must be null or an integer');
  expect([1, 2, 3, 4, 5].includes(m.status as number), 'status must be 1..5');
  expect(m.lifecycle_stage === 'active' || m.lifecycle_stage === 'deleted', 'lifecycle_stage');
  expect((m.lifecycle_stage === 'deleted') === Number.isInteger(m.deleted_time), 'deleted_time set exactly when deleted');
  expect(m.source_type === 4 && m.source_name === '' && m.source_version === '' && m.entry_point_name === '', 'source fields');
  expect(Array.isArray(m.tags) && (m.tags as unknown[]).length === 0, 'tags must be []');
  expect(typeof m.user_id === 'string' && m.user_id !== '', 'user_id must be a non-empty string');
  expect(typeof m.run_name === 'string', 'run_name must be a string');
  for (const entry of readdirSync(dir)) {
    if (!['meta.yaml', 'params', 'metrics', 'tags', 'artifacts'].includes(entry)) problems.push(`${dir}: unexpected entry '${entry}'`);
  }
  for (const sub of ['params', 'metrics', 'artifacts']) expect(existsSync(join(dir, sub)), `missing ${sub}/`);
  validateKeyFolder(join(dir, 'params'), 'param', problems);
  validateKeyFolder(join(dir, 'tags'), 'tag', problems);
  validateKeyFolder(join(dir, 'metrics'), 'metric', problems);
}

/** Every rule of the reference, over a whole mlruns/ folder; returns the problems found. */
export function validateMlruns(root: string): string[] {
  const problems: string[] = [];
  const experiments = [
    ...readdirSync(root).filter((n) => n !== '.trash' && n !== 'models').map((n) => join(root, n)),
    ...(existsSync(join(root, '.trash')) ? readdirSync(join(root, '.trash')).map((n) => join(root, '.trash', n)) : []),
  ];
  for (const expDir of experiments) {
    if (!statSync(expDir).isDirectory()) {
      problems.push(`${expDir}: stray file in the tracking root`);
      continue;
    }
    const expId = posix.basename(expDir);
    const e = checkMetaText(join(expDir, 'meta.yaml'), readFileSync(join(expDir, 'meta.yaml'), 'utf8'), EXPERIMENT_FIELDS, ['experiment_id'], problems);
    if (e.experiment_id !== expId) problems.push(`${expDir}: experiment_id ${String(e.experiment_id)} is not the folder name`);
    if (!/^\d+$/.test(expId)) problems.push(`${expDir}: experiment id is not an integer string`);
    if (e.artifact_location !== pathToFileURL(join(root, expId)).href) problems.push(`${expDir}: artifact_location ${String(e.artifact_location)}`);
    if (!Number.isInteger(e.creation_time) || !Number.isInteger(e.last_update_time)) problems.push(`${expDir}: times must be integers`);
    if (typeof e.name !== 'string' || e.name === '') problems.push(`${expDir}: name`);
    validateKeyFolder(join(expDir, 'tags'), 'tag', problems);
    for (const entry of readdirSync(expDir, { withFileTypes: true })) {
      if (entry.name === 'meta.yaml' || entry.name === 'tags') continue;
      if (!entry.isDirectory()) problems.push(`${expDir}: stray file '${entry.name}'`);
      else validateRun(expDir, expId, String(e.artifact_location), entry.name, problems);
    }
  }
  return problems;
}

test('runs written through startRun, children, artifacts, a failure and a delete satisfy every layout rule', async (t) => {
  const root = tempDir(t);
  writeFiles(root, { 'params.yaml': 'tracking:\n  experiment: grid search\n', 'model/model.json': '{"trees": []}', 'report.txt': 'ok' });
  const run = await startRun({ root, stageName: 'train', params: { train: { max_depth: 10, criterion: "gini's", grid: [1, 2] } } });
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
  await assert.rejects(withTrackedRun({ root, stageName: 'evaluate' }, async () => { throw new Error('boom'); }), /boom/);

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
  const run = await startRun({ root, stageName: 'train' });
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
  const run = await startRun({ root, stageName: 'train', params: { depth: 3 } });
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
