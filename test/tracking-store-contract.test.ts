import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
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

  contract('metrics: NaN is kept (latest and history); ids and names of a run survive a round trip', async (store) => {
    const { run_id } = await newRun(store);
    await store.logMetrics(run_id, [{ key: 'loss', value: 0.4, step: 0, timestamp: 10 }, { key: 'loss', value: NaN, step: 1, timestamp: 11 }]);
    assert.ok(Number.isNaN((await store.getRun(run_id)).metrics.loss));
    const history = await store.getMetricHistory(run_id, 'loss');
    assert.equal(history.length, 2);
    assert.ok(history.some((m) => Number.isNaN(m.value)) && history.some((m) => m.value === 0.4));
    await assert.rejects(store.getMetricHistory('f'.repeat(32), 'loss'), ofKind('not-found'));
  });

  contract("search: MLflow's semantics (unprefixed attributes, NaN order, missing keys, LIKE/ILIKE, OR, created, user_id)", async (store) => {
    const experimentId = await store.getOrCreateExperiment('semantics');
    const made: Record<string, string> = {};
    const spec = [
      { name: 'a', f1: 0.5, model: 'Forest', user: 'ana', start: 1000 },
      { name: 'b', f1: NaN, model: 'forest', user: 'bo', start: 2000 },
      { name: 'c', f1: undefined, model: 'tree', user: 'ana', start: 3000 },
      { name: 'd', f1: 0.9, model: undefined, user: 'bo', start: 4000 },
    ];
    for (const r of spec) {
      const info = await store.createRun({ experimentId, runName: r.name, userId: r.user, startTime: r.start });
      if (r.f1 !== undefined) await store.logMetrics(info.run_id, [{ key: 'f1', value: r.f1, step: 0, timestamp: 1 }]);
      if (r.model !== undefined) await store.logParams(info.run_id, { model: r.model });
      made[r.name] = info.run_id;
    }
    await store.setStatus(made.d!, 'FINISHED', 5000);
    const names = async (filter: string, orderBy: string[] = []) => (await store.searchRuns({ experimentIds: [experimentId], filter, orderBy })).runs.map((r) => r.info.run_name);
    assert.deepEqual(await names('', ['metrics.f1']), ['a', 'd', 'b', 'c'], 'NaN after real values, missing last');
    assert.deepEqual(await names('', ['metrics.f1 DESC']), ['d', 'a', 'b', 'c']);
    assert.deepEqual(await names('', []), ['d', 'c', 'b', 'a'], 'newest first by default');
    assert.deepEqual(await names('', ['params.model']), ['a', 'b', 'c', 'd'], 'code point order: upper case first; missing last');
    assert.deepEqual(await names("status = 'FINISHED'"), ['d']);
    assert.deepEqual(await names("run_name = 'b' or attributes.run_name = 'c'"), ['c', 'b']);
    assert.deepEqual(await names('created >= 3000'), ['d', 'c']);
    assert.deepEqual(await names("user_id = 'ana'", ['start_time']), ['a', 'c']);
    assert.deepEqual(await names('attributes.end_time > 0'), ['d']);
    assert.deepEqual(await names('metrics.f1 > 0.1', ['metrics.f1']), ['a', 'd'], 'NaN matches no comparison...');
    assert.deepEqual(await names('metrics.f1 != 0.5', ['metrics.f1']), ['d', 'b'], '...but != ; runs without the metric never match');
    assert.deepEqual(await names("params.model LIKE 'f%'"), ['b'], 'LIKE is case-sensitive');
    assert.deepEqual(await names("params.model ILIKE 'F%'", ['start_time']), ['a', 'b']);
    assert.deepEqual(await names("params.model LIKE '_ree'"), ['c']);
    assert.deepEqual(await names("params.model != 'tree'", ['start_time']), ['a', 'b']);
    assert.deepEqual(await names("(params.model = 'tree' or metrics.f1 > 0.8) and user_id = 'bo'"), ['d']);
    assert.deepEqual(await names(`attributes.run_id IN ('${made.a}', '${made.c}')`, ['start_time']), ['a', 'c']);
    assert.deepEqual(await names(`run_id NOT IN ('${made.a}')`, ['start_time']), ['b', 'c', 'd']);
    assert.deepEqual(await names("artifact_uri LIKE '%/artifacts'", ['start_time']), ['a', 'b', 'c', 'd']);
    assert.deepEqual(await names("datasets.name = 'train'"), [], 'no run logged a dataset');
    assert.deepEqual(await names("tags.`mlflow.runName` = 'a'"), ['a']);
  });

  contract('nested runs: the parent link is a tag every store keeps and searches', async (store) => {
    const parent = await newRun(store, 'grid');
    const experimentId = parent.experiment_id;
    for (const i of [0, 1]) {
      await store.createRun({ experimentId, runName: `candidate-${i}`, userId: 'tester', tags: { 'mlflow.parentRunId': parent.run_id } });
    }
    const children = await store.searchRuns({ experimentIds: [experimentId], filter: `tags.mlflow.parentRunId = '${parent.run_id}'`, orderBy: ['attributes.run_name'] });
    assert.deepEqual(children.runs.map((r) => [r.info.run_name, r.tags['mlflow.parentRunId']]), [['candidate-0', parent.run_id], ['candidate-1', parent.run_id]]);
  });

  contract("artifacts: kept under the run's artifact_uri, in a sub-path when given", async (store, t) => {
    const { run_id } = await newRun(store);
    const dir = tempDir(t);
    writeFiles(dir, { 'model.json': '{"trees": 3}', 'report/a.txt': 'A' });
    await store.logArtifact(run_id, join(dir, 'model.json'), 'models');
    await store.logArtifact(run_id, join(dir, 'report'));
    const artifacts = fileURLToPath((await store.getRun(run_id)).info.artifact_uri);
    assert.equal(readFileSync(join(artifacts, 'models', 'model.json'), 'utf8'), '{"trees": 3}');
    assert.equal(readFileSync(join(artifacts, 'report', 'a.txt'), 'utf8'), 'A');
    await assert.rejects(store.logArtifact(run_id, join(dir, 'model.json'), '../escape'), ofKind('invalid'));
  });
}
