import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMlops, tempDir, writeFiles } from './helpers.js';

const rows = (shift: number) =>
  ['x,colour', ...Array.from({ length: 40 }, (_, i) => `${i + shift},${i % 2 ? 'red' : 'blue'}`)].join('\n') + '\n';

test('as a pipeline stage, drift is a tracked run with its settings, share, per-column tests and report', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'ref.csv': rows(0),
    'cur.csv': rows(30),
    'params.yaml': 'drift:\n  reference: ref.csv\n  current: cur.csv\n  correction: none\n  fail_on_drift: true\n',
  });
  const r = await runMlops(['drift'], { cwd: dir });
  assert.equal(r.code, 1); // x drifted and the gate is on
  const [run] = JSON.parse((await runMlops(['runs', 'list', '--json'], { cwd: dir })).stdout);
  assert.equal(run.tags['mlops.stage'], 'drift');
  assert.equal(run.info.status, 'FAILED');
  assert.equal(run.params.correction, 'none');
  assert.equal(run.metrics.drift, 1);
  assert.equal(run.metrics.drift_share, 0.5);
  assert.equal(run.metrics['statistic/x'], 0.75); // 30 of 40 values shifted past the other sample
  assert.equal(run.metrics['p_value/colour'], 1);
  assert.equal(run.tags['mlops.drift.columns'], 'x');
  assert.ok(existsSync(join(dir, 'mlruns/0', run.run_id, 'artifacts/drift.json')));
});

test('an ad hoc comparison with --reference/--current records no run', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'ref.csv': rows(0), 'cur.csv': rows(0) });
  const r = await runMlops(['drift', '--reference', 'ref.csv', '--current', 'cur.csv'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!existsSync(join(dir, 'mlruns')));
});

test('columns whose names are not valid MLflow keys, or collide once cleaned, still get keys of their own', async (t) => {
  const dir = tempDir(t);
  const csv = (shift: number) =>
    ['Weight (kg),Weight [kg],..,a/b', ...Array.from({ length: 30 }, (_, i) => `${i + shift},${i},${i},${i}`)].join('\n') + '\n';
  writeFiles(dir, { 'ref.csv': csv(0), 'cur.csv': csv(20), 'params.yaml': 'drift:\n  reference: ref.csv\n  current: cur.csv\n' });
  const r = await runMlops(['drift'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const [run] = JSON.parse((await runMlops(['runs', 'list', '--json'], { cwd: dir })).stdout);
  assert.equal(run.info.status, 'FINISHED');
  const statistics = Object.keys(run.metrics).filter((k) => k.startsWith('statistic/')).sort();
  assert.deepEqual(statistics, ['statistic/.._3', 'statistic/Weight _kg_', 'statistic/Weight _kg__2', 'statistic/a_b']);
  assert.equal(run.metrics['statistic/Weight _kg_'], 20 / 30); // the shifted column
  assert.equal(run.metrics['statistic/Weight _kg__2'], 0);
});
