import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { REGISTRY_STORES } from '../src/registry/open.js';
import type { SqlModelRegistry } from '../src/registry/sql-store.js';
import { openDatabase } from '../src/sql/open.js';
import { modelRegistryContract } from './registry-contract.js';
import { postgresDatabase } from './postgres.js';
import { tempDir } from './helpers.js';

// The registry contract on MLflow's tables, in SQLite and in a real PostgreSQL (a database of its own
// per registry, dropped after), opened by URI as a project opens its registry.

type TestContext = import('node:test').TestContext;

async function openSql(t: { after(fn: () => Promise<void>): void }, uri: string, root: string): Promise<SqlModelRegistry> {
  const registry = (await REGISTRY_STORES.open(uri, root)) as SqlModelRegistry;
  t.after(() => registry.close());
  return registry;
}

async function sqlite(t: TestContext): Promise<SqlModelRegistry> {
  const root = tempDir(t);
  return openSql(t, `sqlite:///${join(root, 'mlflow.db')}`, root);
}

async function postgres(t: TestContext): Promise<SqlModelRegistry> {
  const uri = await postgresDatabase(t, 'mlops_registry');
  if (!uri) throw new Error('skipped');
  return openSql(t, uri, tempDir(t));
}

// The contract hands each factory the test's own context.
modelRegistryContract('SQLite', (t) => sqlite(t as unknown as TestContext));
modelRegistryContract('PostgreSQL', (t) => postgres(t as unknown as TestContext));

for (const [label, open] of [['SQLite', sqlite], ['PostgreSQL', postgres]] as const) {
  test(`${label}: MLflow's tables hold the registry; our record and history sit in tags, long values in parts`, async (t) => {
    const r = await open(t);
    const lineage = { source: 'm', run_id: 'f'.repeat(32), git_commit: null, git_dirty: null, train_data: null, test_data: null, params: null, raw_data: null };
    await r.createVersion('clf', { source: 'models/model.json', content: `${'a'.repeat(32)}.dir`, files: { 'model.json': 'a'.repeat(32) }, metrics: { f1: 0.9 }, lineage, user: 'alice', description: 'd' });
    await r.createVersion('clf', { source: 'models/model.json', content: `${'b'.repeat(32)}.dir`, files: { 'model.json': 'b'.repeat(32) }, metrics: {}, lineage, user: 'bob' });
    const gates = { checks: Array.from({ length: 200 }, (_, i) => ({ metric: `metric_${i}`, min: 0.5, value: 0.75, passed: true })) };
    await r.setAlias('clf', 'champion', 2, { action: 'promote', user: 'bob', reason: 'gates passed', gates });
    await r.setAlias('clf', 'challenger', 1, { action: 'alias', user: 'bob', reason: 'try' });
    await r.deleteVersion('clf', 1, { action: 'delete', user: 'bob', reason: 'old' });
    const db = await openDatabase((r as unknown as { db: { uri: string } }).db.uri, { root: '/' });
    t.after(() => db.close());
    const versions = await db.query<{ version: number; current_stage: string; run_id: string; user_id: string; status: string }>(
      'SELECT version, current_stage, run_id, user_id, status FROM model_versions WHERE name = ? ORDER BY version', ['clf']);
    assert.deepEqual(versions.map((v) => [Number(v.version), v.current_stage, v.run_id, v.user_id, v.status]), [
      [1, 'Deleted_Internal', 'f'.repeat(32), 'alice', 'READY'], [2, 'None', 'f'.repeat(32), 'bob', 'READY'],
    ]);
    assert.deepEqual(await db.query('SELECT alias, version, name FROM registered_model_aliases'), [{ alias: 'champion', version: 2, name: 'clf' }]);
    const tags = await db.query<{ key: string; value: string }>('SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key', ['clf']);
    assert.ok(tags.every((tag) => tag.value.length <= 5000), 'every value fits MLflow\'s VARCHAR(5000)');
    assert.deepEqual(tags.map((tag) => tag.key), ['mlops.history.000001', 'mlops.history.000001.part2', 'mlops.history.000001.part3', 'mlops.history.000002', 'mlops.history.000003']);
    const events = await r.history('clf');
    assert.deepEqual(events[0]!.gates, gates);
    assert.deepEqual(events.map((e) => [e.action, e.alias, e.from, e.to]), [['promote', 'champion', null, 2], ['alias', 'challenger', null, 1], ['delete', 'challenger', 1, null]]);
    const record = await db.query<{ value: string }>('SELECT value FROM model_version_tags WHERE name = ? AND version = ? AND key = ?', ['clf', 2, 'mlops.version']);
    assert.equal(JSON.parse(record[0]!.value).content, `${'b'.repeat(32)}.dir`);
  });
}
