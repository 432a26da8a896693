import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { storeFiles } from '../src/registry/content.js';
import { holders, rollback } from '../src/registry/lifecycle.js';
import { Project } from '../src/project/project.js';
import { openRegistry } from '../src/registry/open.js';
import type { HistoryEvent } from '../src/registry/store.js';
import { tempDir, writeFiles } from './helpers.js';

// Rollback walks the alias' history back: each rollback undoes one move, deleted versions are passed
// over, and with nothing earlier it refuses.

const event = (action: HistoryEvent['action'], from: number | null, to: number | null, alias = 'champion'): HistoryEvent =>
  ({ time: '2026-01-01T00:00:00.000Z', user: 'u', reason: 'r', action, alias, from, to });

test('holders: moves push, rollbacks pop back to their target, a delete clears, other aliases do not count', () => {
  assert.deepEqual(holders([event('promote', null, 1), event('promote', 1, 2), event('alias', 2, 3)], 'champion'), [1, 2, 3]);
  assert.deepEqual(holders([event('promote', null, 1), event('promote', 1, 2), event('promote', 2, 3), event('rollback', 3, 1)], 'champion'), [1]);
  assert.deepEqual(holders([event('promote', null, 1), event('delete', 1, null), event('promote', null, 2)], 'champion'), [2]);
  assert.deepEqual(holders([event('promote', null, 1), event('alias', null, 5, 'staging')], 'champion'), [1]);
});

test('rollback passes over a deleted version, goes one further back each time, then refuses', async (t) => {
  const root = tempDir(t);
  const project = Project.open(root);
  const { registry, objects } = await openRegistry(project);
  for (const n of [1, 2, 3, 4]) {
    writeFiles(root, { [`m${n}/model.json`]: `{"n": ${n}}` });
    const stored = await storeFiles(objects, { 'model.json': join(root, `m${n}/model.json`) });
    await registry.createVersion('clf', { ...stored, source: `m${n}`, metrics: {}, user: 'u', lineage: { source: `m${n}`, run_id: null, git_commit: null, git_dirty: null, train_data: null, test_data: null, params: null, raw_data: null } });
    await registry.setAlias('clf', 'champion', n, { action: 'promote', user: 'u', reason: `p${n}` });
  }
  await registry.deleteVersion('clf', 3, { action: 'delete', user: 'u', reason: 'bad' }); // held champion before 4: passed over
  assert.deepEqual(await rollback(project, { name: 'clf', alias: 'champion', user: 'u' }), { from: 4, to: 2 });
  assert.deepEqual(await rollback(project, { name: 'clf', alias: 'champion', user: 'u' }), { from: 2, to: 1 });
  await assert.rejects(rollback(project, { name: 'clf', alias: 'champion', user: 'u' }), /no earlier version held champion/);
  assert.equal((await registry.getModel('clf')).aliases.champion, 1);
});
