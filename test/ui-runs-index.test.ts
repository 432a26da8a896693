import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, type TestContext } from 'node:test';
import { TRACKING_STORES } from '../src/project/stores.js';
import type { TrackingStore } from '../src/tracking/store.js';
import { RunsIndex } from '../src/ui/runs-index.js';
import { tempDir } from './helpers.js';
import { postgresDatabase } from './postgres.js';

// The runs page's in-memory copy of an experiment, on each store: the store is read whole once; then
// runs written by another process (here: the store itself, not through the index) show after a check
// that reads only the runs that changed, appeared or are still running; removed runs go; the orders,
// filters and errors are `runs list`'s.

const STORES: readonly { name: string; open(t: TestContext): Promise<TrackingStore | undefined> }[] = [
  { name: 'file', open: (t) => { const root = tempDir(t); return TRACKING_STORES.open(pathToFileURL(join(root, 'mlruns')).href, root); } },
  { name: 'SQLite', open: (t) => { const root = tempDir(t); return TRACKING_STORES.open('sqlite:///mlflow.db', root, { artifactRoot: join(root, 'mlartifacts') }); } },
  {
    name: 'PostgreSQL',
    open: async (t) => {
      const uri = await postgresDatabase(t, 'ui_runs_index');
      return uri ? TRACKING_STORES.open(uri, tempDir(t), { artifactRoot: join(tempDir(t), 'mlartifacts') }) : undefined;
    },
  },
];

/** The real store, with its reads counted. */
function counted(store: TrackingStore) {
  const calls = { searchRuns: 0, getRun: 0 };
  const proxy = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (name === 'searchRuns' || name === 'getRun') calls[name]++;
        return value.apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

for (const impl of STORES) {
  test(`runs index (${impl.name}): read once, then only the changed, new and running runs; removed ones go`, async (t) => {
    const real = await impl.open(t);
    if (!real) return;
    t.after(() => real.close?.());
    const experimentId = await real.getOrCreateExperiment('idx');
    const run = async (name: string, f1: number, status: 'FINISHED' | 'RUNNING', start: number) => {
      const { run_id } = await real.createRun({ experimentId, runName: name, userId: 'u', startTime: start });
      await real.logParams(run_id, { depth: String(f1 * 10) });
      await real.logMetrics(run_id, [{ key: 'f1', value: f1, step: 0, timestamp: start }]);
      if (status === 'FINISHED') await real.setStatus(run_id, 'FINISHED', start + 1000);
      return run_id;
    };
    const a = await run('a', 0.5, 'FINISHED', 1_000);
    const b = await run('b', 0.9, 'FINISHED', 2_000);
    const live = await run('live', 0.1, 'RUNNING', 3_000);

    const { store, calls } = counted(real);
    const index = new RunsIndex(store, { checkEvery: 0 });
    const names = async (orderBy: string[] = ['metrics.f1 DESC'], filter?: string) =>
      (await index.search({ experimentId, orderBy, filter, flat: true })).runs.map((r) => `${r.run_name}:${r.status}:${r.metrics.f1}`);
    assert.deepEqual(await names(), ['b:FINISHED:0.9', 'a:FINISHED:0.5', 'live:RUNNING:0.1']);
    assert.deepEqual(await names(['params.depth'], 'metrics.f1 > 0.2'), ['a:FINISHED:0.5', 'b:FINISHED:0.9']);
    assert.equal(calls.searchRuns, 1);
    await index.settled(); // the checks those searches started (nothing changed: the running run read again)
    const before = calls.getRun;

    // Written behind the index's back: a new run, a point appended to the running run's metric, one
    // run ended as failed, one deleted.
    const c = await run('c', 0.7, 'FINISHED', 4_000);
    await real.logMetrics(live, [{ key: 'f1', value: 0.95, step: 1, timestamp: 3_500 }]);
    await real.setStatus(a, 'FAILED', 5_000);
    await real.deleteRun(b);
    await index.search({ experimentId }); // answers from the copy and starts a check
    await index.settled();
    assert.equal(calls.getRun - before, 4, 'the changed (a, b), new (c) and running (live) runs read again');
    assert.deepEqual(await names(), ['live:RUNNING:0.95', 'c:FINISHED:0.7', 'a:FAILED:0.5']);
    assert.equal(calls.searchRuns, 1, 'no whole read');

    // Nothing changed: only the running run is read again, and the copy stays.
    await index.settled();
    const after = calls.getRun;
    await index.search({ experimentId });
    await index.settled();
    assert.equal(calls.getRun, after + 1);
    assert.deepEqual(await names(['attributes.start_time DESC'], "attributes.status != 'FAILED'"), ['c:FINISHED:0.7', 'live:RUNNING:0.95']);
    // The deleted view has its own copy.
    assert.deepEqual((await index.search({ experimentId, view: 'deleted' })).runs.map((r) => r.run_id), [b]);
    assert.ok([a, c, live].every((id) => id !== b));

    // A malformed filter or order is `runs list`'s error, word for word.
    for (const query of [{ filter: 'metrics.f1 >> 1' }, { filter: "prams.x = '1'" }, { orderBy: ['metrics.f1 UP'] }]) {
      const expected: string = await real.searchRuns({ experimentIds: [experimentId], ...query }).then(() => 'no error', (e: Error) => e.message);
      const got: string = await index.search({ experimentId, ...query }).then(() => 'no error', (e: Error) => e.message);
      assert.equal(got, expected);
      assert.notEqual(got, 'no error');
    }
  });
}
