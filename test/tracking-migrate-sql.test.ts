import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileModelRegistry } from '../src/registry/file-store.js';
import { FileStore } from '../src/tracking/file-store.js';
import { populate } from './migrate-fixture.js';
import { artifactContents, killedMigration, storeView, type StoreView } from './migrate-views.js';
import { postgresDatabase } from './postgres.js';
import { runMlops, tempDir, writeFiles } from './helpers.js';

// `mlops tracking migrate` through the database stores: a round trip file -> SQLite -> PostgreSQL ->
// file gives back what `runs show --json` and `models list --json` showed at the start, and a
// migration into PostgreSQL killed with SIGKILL halfway is completed by running it again.

type TestContext = import('node:test').TestContext;

function fileStores(root: string, folder: string) {
  const mlruns = join(root, folder);
  return { tracking: new FileStore(mlruns, join(root, '.mlops', 'artifacts')), registry: new FileModelRegistry(mlruns) };
}

async function sourceProject(t: TestContext, runs: number) {
  const root = tempDir(t);
  writeFiles(root, { '.mlops/config': '[tracking]\n    experiment = forest\n' });
  const from = fileStores(root, 'mlruns');
  const fixture = await populate(from.tracking, from.registry, tempDir(t), runs, false);
  return { root, from, fixture };
}

/** A view with what differs between kinds of store by design blanked: experiment ids (integers in SQL) and artifact URIs. */
function storeNeutral(view: StoreView): StoreView {
  const runs = Object.fromEntries(Object.entries(view.runs).map(([id, shown]) => {
    const run = structuredClone(shown) as { info: Record<string, unknown> };
    run.info.experiment_id = '';
    run.info.artifact_uri = '';
    return [id, run];
  }));
  return { ...view, runs };
}

async function migrateTwice(root: string, args: string[]): Promise<string> {
  const first = await runMlops(['tracking', 'migrate', ...args], { cwd: root });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^copied \d+ experiments, \d+ runs, /);
  const second = await runMlops(['tracking', 'migrate', ...args], { cwd: root });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^nothing to copy: /, 'a second migration copies nothing');
  return first.stdout;
}

test('round trip file -> SQLite -> PostgreSQL -> file: runs show --json, models list and history as they were', async (t) => {
  const postgres = await postgresDatabase(t, 'mlops_migrate');
  if (!postgres) return;
  const { root, from, fixture } = await sourceProject(t, 6);
  const sqlite = `sqlite:///${join(root, 'mlflow.db')}`;
  const original = await storeView(root, 'mlruns', fixture.runIds);

  const toSqlite = await migrateTwice(root, ['--from', 'mlruns', '--to', sqlite]);
  assert.match(toSqlite, /12 runs, 36 params, 516 metric values, /);
  const inSqlite = await storeView(root, sqlite, fixture.runIds);
  assert.deepEqual(storeNeutral(inSqlite), storeNeutral(original));

  // Its own artifact root, so that PostgreSQL's artifacts are really copied, not SQLite's found in place.
  await migrateTwice(root, ['--from', sqlite, '--to', postgres, '--to-artifact-root', 'pg-artifacts']);
  const inPostgres = await storeView(root, postgres, fixture.runIds);
  assert.deepEqual(storeNeutral(inPostgres), storeNeutral(original));
  assert.ok(Object.values(inPostgres.runs).every((r) => (r as { info: { artifact_uri: string } }).info.artifact_uri.includes('/pg-artifacts/')));

  renameSync(join(root, 'mlruns'), join(root, 'mlruns.orig'));
  await migrateTwice(root, ['--from', postgres, '--to', 'mlruns', '--from-artifact-root', 'pg-artifacts']);
  assert.deepEqual(await storeView(root, 'mlruns', fixture.runIds), original, 'the same, ids and artifact URIs included');
  const back = fileStores(root, 'mlruns');
  const moved = fileStores(root, 'mlruns.orig');
  const scratch = tempDir(t);
  assert.deepEqual(await artifactContents(back.tracking, fixture.runIds, scratch), await artifactContents(moved.tracking, fixture.runIds, scratch));
  for (const name of ['obesity_classifier', 'drift_reference']) assert.deepEqual(await back.registry.exportModel(name), await moved.registry.exportModel(name));
  for (const name of fixture.experiments) {
    assert.deepEqual(await back.tracking.getExperimentByName(name), { ...(await moved.tracking.getExperimentByName(name))!, artifact_location: (await back.tracking.getExperimentByName(name))!.artifact_location });
  }
  void from;
});

test('migrate into SQLite: a value a folder holds twice is one row, and a second migration still copies nothing', async (t) => {
  const root = tempDir(t);
  writeFiles(root, { '.mlops/config': '' });
  const from = fileStores(root, 'mlruns');
  await populate(from.tracking, from.registry, tempDir(t), 2, true);
  await migrateTwice(root, ['--from', 'mlruns', '--to', 'sqlite:///mlflow.db']);
});

test('migrate into PostgreSQL killed with SIGKILL halfway: running it again completes it', async (t) => {
  const postgres = await postgresDatabase(t, 'mlops_migrate_kill');
  if (!postgres) return;
  const { root, fixture } = await sourceProject(t, 40);
  const original = storeNeutral(await storeView(root, 'mlruns', fixture.runIds.slice(0, 3)));
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: postgres });
  client.on('error', () => {}); // the database is dropped (WITH FORCE) after the test
  await client.connect();
  const copied = async () => {
    try {
      return Number((await client.query('SELECT COUNT(*) AS n FROM runs')).rows[0].n);
    } catch {
      return 0; // the tables are not made yet
    }
  };
  const tmp = tempDir(t);
  await killedMigration(['--from', 'mlruns', '--to', postgres], root, { TMPDIR: tmp }, async () => (await copied()) >= 20);
  const atKill = await copied();
  assert.ok(atKill >= 20 && atKill < 80, `killed with ${atKill} of 80 runs copied`);
  const rest = await runMlops(['tracking', 'migrate', '--from', 'mlruns', '--to', postgres], { cwd: root, env: { TMPDIR: tmp } });
  assert.equal(rest.code, 0, rest.stderr);
  assert.match(rest.stdout, /^copied 0 experiments, \d+ runs, /);
  assert.equal(await copied(), 80);
  const again = await runMlops(['tracking', 'migrate', '--from', 'mlruns', '--to', postgres], { cwd: root, env: { TMPDIR: tmp } });
  assert.match(again.stdout, /^nothing to copy: /);
  // Every run whole: compared through the stores (all 80) and through the CLI (a few).
  const { TRACKING_STORES } = await import('../src/project/stores.js');
  const db = await TRACKING_STORES.open(postgres, root);
  t.after(() => db.close?.());

  const file = fileStores(root, 'mlruns').tracking;
  for (const id of fixture.runIds) {
    const [a, b] = [await file.getRun(id), await db.getRun(id)];
    assert.deepEqual({ ...b, info: { ...b.info, experiment_id: '', artifact_uri: '' } }, { ...a, info: { ...a.info, experiment_id: '', artifact_uri: '' } }, id);
    assert.deepEqual((await db.getMetricHistory(id, 'loss')).length, (await file.getMetricHistory(id, 'loss')).length, id);
  }
  assert.deepEqual(storeNeutral(await storeView(root, postgres, fixture.runIds.slice(0, 3))), original);
  await client.end();
});
