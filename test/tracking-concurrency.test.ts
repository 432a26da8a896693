import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { TRACKING_STORES } from '../src/project/stores.js';
import type { TrackingStore } from '../src/tracking/store.js';
import { tempDir } from './helpers.js';
import { postgresDatabase } from './postgres.js';

// Several processes logging to one store at once lose nothing: every run, param, metric
// point and tag lands, and the shared run's latest metric is the highest step whoever wrote it.

const WORKERS = 4;
const RUNS_EACH = 5;
const POINTS_EACH = 40;
const STORES_MODULE = new URL('../src/project/stores.js', import.meta.url).href;

// One worker: its own runs in a shared experiment (created by whichever process comes first), and
// metric points into the one run every worker writes to.
const WORKER = `
const { TRACKING_STORES } = await import(process.env.STORES_MODULE);
const [uri, root, worker, sharedRun] = process.argv.slice(1);
const store = await TRACKING_STORES.open(uri, root, { artifactRoot: root + '/mlartifacts' });
const experimentId = await store.getOrCreateExperiment('crowd');
for (let i = 0; i < ${RUNS_EACH}; i++) {
  const { run_id } = await store.createRun({ experimentId, runName: 'w' + worker + '-' + i, userId: 'w' + worker });
  await store.logParams(run_id, { worker, i: String(i) });
  await store.logMetrics(run_id, [{ key: 'score', value: Number(worker) + i / 10, step: 0, timestamp: Date.now() }]);
  await store.setTags(run_id, { note: 'from ' + worker });
  await store.setStatus(run_id, 'FINISHED', Date.now());
}
for (let p = 0; p < ${POINTS_EACH}; p++) {
  const step = Number(worker) * ${POINTS_EACH} + p;
  await store.logMetrics(sharedRun, [{ key: 'loss', value: 1 / (step + 1), step, timestamp: 1000 + step }]);
}
await store.close?.();
`;

function worker(uri: string, root: string, n: number, sharedRun: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', WORKER, uri, root, String(n), sharedRun], {
      env: { ...process.env, STORES_MODULE },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

async function crowd(t: TestContext, uri: string | undefined): Promise<void> {
  if (!uri) return;
  const root = tempDir(t);
  const store: TrackingStore = await TRACKING_STORES.open(uri, root, { artifactRoot: join(root, 'mlartifacts') });
  t.after(() => store.close?.());
  const shared = await store.createRun({ experimentId: await store.getOrCreateExperiment('shared'), runName: 'shared', userId: 'all' });
  const results = await Promise.all(Array.from({ length: WORKERS }, (_, n) => worker(uri, root, n, shared.run_id)));
  for (const r of results) assert.equal(r.code, 0, r.stderr);

  const experiment = await store.getExperimentByName('crowd');
  assert.ok(experiment, 'one experiment, created by whichever worker came first');
  assert.equal((await store.listExperiments()).filter((e) => e.name === 'crowd').length, 1);
  const { runs } = await store.searchRuns({ experimentIds: [experiment.experiment_id] });
  assert.equal(runs.length, WORKERS * RUNS_EACH);
  for (const run of runs) {
    const [w, i] = run.info.run_name.slice(1).split('-');
    assert.deepEqual(run.params, { worker: w, i });
    assert.equal(run.metrics.score, Number(w) + Number(i) / 10);
    assert.equal(run.tags.note, `from ${w}`);
    assert.equal(run.info.status, 'FINISHED');
  }
  const history = await store.getMetricHistory(shared.run_id, 'loss');
  assert.equal(history.length, WORKERS * POINTS_EACH, 'every metric point of every process');
  const lastStep = WORKERS * POINTS_EACH - 1;
  assert.equal((await store.getRun(shared.run_id)).metrics.loss, 1 / (lastStep + 1), 'latest_metrics holds the highest step');
}

// The folder store appends metric lines; a metric file's first lines are linked into place whole, so
// processes creating it at once keep every line (the ones that find it there append).
test('folder: processes logging at once lose nothing', async (t) => {
  await crowd(t, 'mlruns');
});

test('SQLite: processes logging at once lose nothing', async (t) => {
  await crowd(t, 'sqlite:///mlflow.db');
});

test('PostgreSQL: processes logging at once lose nothing', async (t) => {
  await crowd(t, await postgresDatabase(t, 'concurrency'));
});
