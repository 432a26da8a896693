import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileModelRegistry } from '../src/registry/file-store.js';
import { modelRegistryContract } from './registry-contract.js';
import { validateRegistryLayout } from './registry-validator.js';
import { tempDir } from './helpers.js';

modelRegistryContract('file store', (t) => new FileModelRegistry(join(tempDir(t), 'mlruns')));

test('file store: the folders follow MLflow registry layout and keep no scratch behind', async (t) => {
  const mlruns = join(tempDir(t), 'mlruns');
  const r = new FileModelRegistry(mlruns);
  const lineage = { source: 'm', run_id: null, git_commit: null, git_dirty: null, train_data: null, test_data: null, params: null, raw_data: null };
  const add = (c: string) => r.createVersion('obesity_classifier', { source: 'models/model.json', content: `${c}.dir`, files: { 'model.json': c }, metrics: {}, lineage, user: 'u' });
  await add('a'.repeat(32));
  await add('b'.repeat(32));
  await add('c'.repeat(32));
  await r.setAlias('obesity_classifier', 'champion', 2, { action: 'promote', user: 'u', reason: 'r' });
  await r.setAlias('obesity_classifier', 'challenger', 3, { action: 'alias', user: 'u', reason: 'r' });
  await r.deleteVersion('obesity_classifier', 1, { action: 'delete', user: 'u', reason: 'r' });
  await r.setDescription('obesity_classifier', 2, "it's: quoted");
  assert.deepEqual(validateRegistryLayout(mlruns), []);
  assert.equal(readFileSync(join(mlruns, 'models', 'obesity_classifier', 'aliases', 'champion'), 'utf8'), '2');
  // Nothing half-built left where MLflow would list it as a model.
  assert.deepEqual(readdirSync(join(mlruns, 'models')).sort(), ['obesity_classifier']);
  assert.deepEqual(existsSync(join(mlruns, '.trash')) ? readdirSync(join(mlruns, '.trash')) : [], []);
});
