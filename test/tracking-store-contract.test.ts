import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { MlopsError, type ErrorKind } from '../src/core/errors.js';
import { TRACKING_STORES } from '../src/project/stores.js';
import type { TrackingStore } from '../src/tracking/store.js';
import { tempDir, writeFiles } from './helpers.js';
import { postgresDatabase } from './postgres.js';

// The behaviour every TrackingStore must have, whatever keeps the data. Each implementation is opened
// on a fresh, empty location through the store registry, as a project opens it from its tracking URI;
// a new store passes by adding one line to STORES. PostgreSQL is a real server (MLOPS_TEST_POSTGRES_URL,
// else the local one) with a database of its own per test; skipped, saying why, when none answers.

interface Implementation {
  readonly name: string;
  /** A fresh, empty store of this kind; undefined when it cannot be had here (the test is skipped). */
  open(t: TestContext): Promise<TrackingStore | undefined>;
}

/** A database store through the registry, as a project opens it; closed when the test ends. */
async function openDatabaseStore(t: TestContext, uri: string | undefined, root: string): Promise<TrackingStore | undefined> {
  if (!uri) return undefined;
  const store = await TRACKING_STORES.open(uri, root, { artifactRoot: join(root, 'mlartifacts') });
  t.after(() => store.close?.());
  return store;
}

const STORES: readonly Implementation[] = [
  {
    name: 'file (mlruns/ folder)',
    open: (t) => {
      const root = tempDir(t); // the project root: the store keeps artifact contents under its .mlops/
      return TRACKING_STORES.open(pathToFileURL(join(root, 'mlruns')).href, root);
    },
  },
  {
    name: 'SQLite',
    open: (t) => {
      const root = tempDir(t);
      return openDatabaseStore(t, 'sqlite:///mlflow.db', root);
    },
  },
  {
    name: 'PostgreSQL',
    open: async (t) => openDatabaseStore(t, await postgresDatabase(t, 'tracking_contract'), tempDir(t)),
  },
];

const ofKind = (kind: ErrorKind, message?: RegExp) => (error: unknown) =>
  error instanceof MlopsError && error.kind === kind && (!message || message.test(error.message));

async function newRun(store: TrackingStore, name = 'r', experiment = 'contract') {
  const experimentId = await store.getOrCreateExperiment(experiment);
  return store.createRun({ experimentId, runName: name, userId: 'tester', startTime: 1_700_000_000_000, tags: { team: 'ml' } });
}

for (const impl of STORES) {
  const contract = (name: string, fn: (store: TrackingStore, t: TestContext) => Promise<void>) =>
    test(`${impl.name}: ${name}`, async (t) => {
      const store = await impl.open(t);
      if (store) await fn(store, t);
    });

  contract('experiments: created once by name, found by name and id, listed; unknown ones are not-found', async (store) => {
    assert.equal(await store.getExperimentByName('contract'), undefined);
    const id = await store.getOrCreateExperiment('contract');
    assert.equal(await store.getOrCreateExperiment('contract'), id, 'the same name gives the same experiment');
    const other = await store.getOrCreateExperiment('other');
    assert.notEqual(other, id);
    const found = await store.getExperiment(id);
    assert.equal(found.name, 'contract');
    assert.equal(found.lifecycle_stage, 'active');
    assert.equal((await store.getExperimentByName('contract'))?.experiment_id, id);
    const names = (await store.listExperiments()).map((e) => e.name);
    assert.ok(names.includes('contract') && names.includes('other'));
    await assert.rejects(store.getExperiment('123456789'), ofKind('not-found'));
    await assert.rejects(store.getOrCreateExperiment(''), ofKind('invalid'));
  });

  contract('runs: created RUNNING with their name, user, start time and tags; finished with an end time', async (store) => {
    const info = await newRun(store, 'first');
    assert.match(info.run_id, /^[0-9a-f]{32}$/);
    assert.equal(info.status, 'RUNNING');
    const run = await store.getRun(info.run_id);
    assert.deepEqual(
      { name: run.info.run_name, user: run.info.user_id, start: run.info.start_time, end: run.info.end_time, stage: run.info.lifecycle_stage },
      { name: 'first', user: 'tester', start: 1_700_000_000_000, end: null, stage: 'active' },
    );
    assert.equal(run.tags.team, 'ml');
    assert.equal(run.tags['mlflow.runName'], 'first');
    await store.setStatus(info.run_id, 'FINISHED', 1_700_000_001_000);
    const done = (await store.getRun(info.run_id)).info;
    assert.equal(done.status, 'FINISHED');
    assert.equal(done.end_time, 1_700_000_001_000);
    await assert.rejects(store.getRun('f'.repeat(32)), ofKind('not-found'));
    await assert.rejects(store.createRun({ experimentId: '123456789', runName: 'x', userId: 'u' }), ofKind('not-found'));
  });

  contract('params: logged once; the same value again is fine, another value is a conflict; bad keys are invalid', async (store) => {
    const { run_id } = await newRun(store);
    await store.logParams(run_id, { 'train.max_depth': '10', criterion: 'gini' });
    await store.logParams(run_id, { criterion: 'gini' });
    await assert.rejects(store.logParams(run_id, { criterion: 'entropy' }), ofKind('conflict', /criterion/));
    await assert.rejects(store.logParams(run_id, { 'bad//key': '1' }), ofKind('invalid'));
    assert.deepEqual((await store.getRun(run_id)).params, { 'train.max_depth': '10', criterion: 'gini' });
  });

  contract("metrics: full history kept; the latest value by MLflow's rule (highest step, then time)", async (store) => {
    const { run_id } = await newRun(store);
    await store.logMetrics(run_id, [
      { key: 'loss', value: 0.9, step: 0, timestamp: 1000 },
      { key: 'loss', value: 0.5, step: 2, timestamp: 1001 },
    ]);
    await store.logMetrics(run_id, [{ key: 'loss', value: 0.7, step: 1, timestamp: 1002 }]);
    await store.logMetrics(run_id, [{ key: 'acc', value: 0.8, step: 0, timestamp: 5 }, { key: 'acc', value: 0.85, step: 0, timestamp: 6 }]);
    const run = await store.getRun(run_id);
    assert.deepEqual(run.metrics, { loss: 0.5, acc: 0.85 });
    const history = await store.getMetricHistory(run_id, 'loss');
    assert.deepEqual(history.map((m) => [m.step, m.value]).sort((a, b) => a[0]! - b[0]!), [[0, 0.9], [1, 0.7], [2, 0.5]]);
    assert.deepEqual(await store.getMetricHistory(run_id, 'never_logged'), []);
    await assert.rejects(store.logMetrics(run_id, [{ key: 'x', value: 1, step: 0.5, timestamp: 1 }]), ofKind('invalid'));
  });

  contract('tags: set and overwritten; mlflow.runName renames the run', async (store) => {
    const { run_id } = await newRun(store, 'before');
    await store.setTags(run_id, { note: 'one' });
    await store.setTags(run_id, { note: 'two', 'mlflow.runName': 'after' });
    const run = await store.getRun(run_id);
    assert.equal(run.tags.note, 'two');
    assert.equal(run.info.run_name, 'after');
  });

  contract('search: filter, order, limit, and deleted runs only in the deleted view', async (store) => {
    const ids: string[] = [];
    for (const [i, f1] of [0.7, 0.9, 0.8].entries()) {
      const { run_id } = await newRun(store, `run${i}`);
      await store.logMetrics(run_id, [{ key: 'f1', value: f1, step: 0, timestamp: 1 }]);
      await store.logParams(run_id, { depth: String(i) });
      ids.push(run_id);
    }
    const experimentIds = [(await store.getExperimentByName('contract'))!.experiment_id];
    const names = async (query: object) => (await store.searchRuns({ experimentIds, ...query })).runs.map((r) => r.info.run_name);
    assert.deepEqual(await names({ orderBy: ['metrics.f1 DESC'] }), ['run1', 'run2', 'run0']);
    assert.deepEqual(await names({ filter: 'metrics.f1 > 0.75', orderBy: ['metrics.f1'] }), ['run2', 'run1']);
    assert.deepEqual(await names({ filter: "params.depth = '0'" }), ['run0']);
    assert.deepEqual(await names({ orderBy: ['metrics.f1 DESC'], maxResults: 1 }), ['run1']);
    await store.deleteRun(ids[1]!);
    assert.deepEqual(await names({ orderBy: ['metrics.f1 DESC'] }), ['run2', 'run0']);
    assert.deepEqual(await names({ view: 'deleted' }), ['run1']);
    assert.equal((await store.getRun(ids[1]!)).info.lifecycle_stage, 'deleted');
    await assert.rejects(store.deleteRun(ids[1]!), ofKind('conflict'));
    await assert.rejects(store.searchRuns({ experimentIds, filter: 'metrics.f1 >' }), ofKind('invalid'));
  });

  contract('artifacts: a file is accepted; a missing one is not-found', async (store, t) => {
    const { run_id } = await newRun(store);
    const dir = tempDir(t);
    writeFiles(dir, { 'model.json': '{}' });
    await store.logArtifact(run_id, join(dir, 'model.json'), 'models');
    await assert.rejects(store.logArtifact(run_id, join(dir, 'absent.json')), ofKind('not-found'));
  });

  contract('copies: a run created under a given id, experiment time and tags kept; artifacts listed and read back', async (store, t) => {
    const experimentId = await store.getOrCreateExperiment('copied', { creationTime: 1_600_000_000_000 });
    assert.equal((await store.getExperiment(experimentId)).creation_time, 1_600_000_000_000);
    await store.setExperimentTags(experimentId, { owner: 'team-a', 'mlflow.note.content': 'notes' });
    assert.deepEqual((await store.getExperiment(experimentId)).tags, { owner: 'team-a', 'mlflow.note.content': 'notes' });
    const runId = 'c'.repeat(32);
    const info = await store.createRun({ experimentId, runName: 'copy', userId: 'u', startTime: 5, runId });
    assert.equal(info.run_id, runId);
    assert.equal((await store.getRun(runId)).info.start_time, 5);
    await assert.rejects(store.createRun({ experimentId, runName: 'again', userId: 'u', runId }), ofKind('conflict'));
    await assert.rejects(store.createRun({ experimentId, runName: 'bad', userId: 'u', runId: '../x' }), ofKind('invalid'));
    assert.deepEqual(await store.listArtifacts(runId), []);
    const dir = tempDir(t);
    writeFiles(dir, { 'model.json': '{"a":1}', 'plots/roc.csv': 'x,y\n' });
    await store.logArtifact(runId, join(dir, 'model.json'), 'models');
    await store.logArtifact(runId, join(dir, 'plots'));
    assert.deepEqual(await store.listArtifacts(runId), [{ path: 'models/model.json', size: 7 }, { path: 'plots/roc.csv', size: 4 }]);
    await store.downloadArtifact(runId, 'models/model.json', join(dir, 'out', 'm.json'));
    assert.equal(readFileSync(join(dir, 'out', 'm.json'), 'utf8'), '{"a":1}');
    await assert.rejects(store.downloadArtifact(runId, 'models/none.json', join(dir, 'x')), ofKind('not-found'));
    await assert.rejects(store.downloadArtifact(runId, '../meta.yaml', join(dir, 'x')), ofKind('invalid'));
  });
}
