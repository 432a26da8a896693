import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MlopsError } from '../src/core/errors.js';
import type { Lineage, ModelRegistry, NewVersion } from '../src/registry/store.js';

// The behaviour every ModelRegistry implementation must have, written once against the interface: the
// file store runs it (registry-file-store.test.ts), and a SQL store will run the same function.

type Context = { after(fn: () => void): void };
export type RegistryFactory = (t: Context) => ModelRegistry | Promise<ModelRegistry>;

const LINEAGE: Lineage = {
  source: 'models/model.json', run_id: 'abc123', git_commit: 'f'.repeat(40), git_dirty: false,
  train_data: { path: 'data/prepared/train.csv', md5: '1'.repeat(32) }, test_data: null,
  params: { path: 'params.yaml', md5: '2'.repeat(32) }, raw_data: { path: 'data/raw/x.csv', md5: '3'.repeat(32) },
};

function version(content: string, extra: Partial<NewVersion> = {}): NewVersion {
  return { source: 'models/model.json', content: `${content}.dir`, files: { 'model.json': content }, metrics: { accuracy: 0.5 }, lineage: LINEAGE, user: 'alice', ...extra };
}

const change = (reason: string) => ({ action: 'alias' as const, user: 'alice', reason });

/** Rejects with an error the user must fix (bad input or an unknown name: exit 2) whose message matches. */
async function usageError(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof MlopsError, String(error));
    assert.ok(['invalid', 'not-found'].includes(error.kind), error.kind);
    assert.match(error.message, message);
    return true;
  });
}

export function modelRegistryContract(label: string, factory: RegistryFactory): void {
  test(`${label}: an empty registry lists nothing; unknown models are usage errors`, async (t) => {
    const r = await factory(t);
    assert.deepEqual(await r.listModels(), []);
    await usageError(r.getModel('nope'), /no registered model named "nope"/);
    await usageError(r.listVersions('nope'), /no registered model/);
    await usageError(r.history('nope'), /no registered model/);
    await usageError(r.getVersionByAlias('nope', 'champion'), /no registered model/);
    await usageError(r.deleteAlias('nope', 'champion', change('x')), /no registered model/);
  });

  test(`${label}: versions are numbered 1, 2, ...; the same content again is the existing version`, async (t) => {
    const r = await factory(t);
    const v1 = await r.createVersion('clf', version('a'.repeat(32), { description: 'first' }));
    assert.equal(v1.created, true);
    assert.equal(v1.version.version, 1);
    assert.equal(v1.version.status, 'READY');
    assert.equal(v1.version.description, 'first');
    assert.deepEqual(v1.version.lineage, LINEAGE);
    assert.equal(v1.version.run_id, 'abc123');
    assert.deepEqual(v1.version.metrics, { accuracy: 0.5 });
    const v2 = await r.createVersion('clf', version('b'.repeat(32)));
    assert.equal(v2.version.version, 2);
    const again = await r.createVersion('clf', version('a'.repeat(32)));
    assert.deepEqual([again.created, again.version.version], [false, 1]);
    assert.deepEqual((await r.listVersions('clf')).map((v) => v.version), [1, 2]);
    const model = await r.getModel('clf');
    assert.equal(model.latest_version, 2);
    assert.deepEqual(model.aliases, {});
    assert.deepEqual((await r.listModels()).map((m) => m.name), ['clf']);
    await usageError(r.getVersion('clf', 3), /has no version 3/);
  });

  test(`${label}: invalid model names and aliases are refused before anything is written`, async (t) => {
    const r = await factory(t);
    for (const bad of ['a/b', 'a\\b', '50%', '..', 'x@y', '']) await usageError(r.createVersion(bad, version('c'.repeat(32))), /invalid model name/);
    assert.deepEqual(await r.listModels(), []);
    await r.createVersion('clf', version('c'.repeat(32)));
    for (const bad of ['latest', 'Latest', 'v2', 'has space', 'a/b']) await usageError(r.setAlias('clf', bad, 1, change('x')), /invalid alias/);
    assert.deepEqual(await r.history('clf'), []);
  });

  test(`${label}: aliases point at versions, and every move is in the history`, async (t) => {
    const r = await factory(t);
    await r.createVersion('clf', version('a'.repeat(32)));
    await r.createVersion('clf', version('b'.repeat(32)));
    await r.setAlias('clf', 'champion', 1, change('first'));
    await r.setAlias('clf', 'champion', 2, { action: 'promote', user: 'bob', reason: 'gates passed', gates: { passed: true } });
    await r.setAlias('clf', 'challenger', 1, change('try'));
    assert.equal((await r.getVersionByAlias('clf', 'champion')).version, 2);
    assert.deepEqual((await r.getModel('clf')).aliases, { challenger: 1, champion: 2 });
    assert.deepEqual((await r.getVersion('clf', 1)).aliases, ['challenger']);
    await usageError(r.setAlias('clf', 'champion', 7, change('x')), /has no version 7/);
    await usageError(r.getVersionByAlias('clf', 'staging'), /has no alias "staging"/);
    await r.deleteAlias('clf', 'challenger', { action: 'delete', user: 'alice', reason: 'done' });
    await usageError(r.deleteAlias('clf', 'challenger', change('again')), /has no alias/);
    const events = await r.history('clf');
    assert.deepEqual(events.map((e) => [e.action, e.alias, e.from, e.to, e.user, e.reason]), [
      ['alias', 'champion', null, 1, 'alice', 'first'],
      ['promote', 'champion', 1, 2, 'bob', 'gates passed'],
      ['alias', 'challenger', null, 1, 'alice', 'try'],
      ['delete', 'challenger', 1, null, 'alice', 'done'],
    ]);
    assert.deepEqual(events[1]!.gates, { passed: true });
    for (const e of events) assert.ok(!Number.isNaN(Date.parse(e.time)), e.time);
  });

  test(`${label}: a deleted version is gone, its aliases with it, and its number is never reused`, async (t) => {
    const r = await factory(t);
    await r.createVersion('clf', version('a'.repeat(32)));
    await r.createVersion('clf', version('b'.repeat(32)));
    await r.setAlias('clf', 'champion', 2, change('x'));
    await r.deleteVersion('clf', 2, { action: 'delete', user: 'alice', reason: 'bad model' });
    await usageError(r.getVersion('clf', 2), /has no version 2/);
    assert.deepEqual((await r.getModel('clf')).aliases, {});
    assert.equal((await r.getModel('clf')).latest_version, 1);
    const last = (await r.history('clf')).at(-1)!;
    assert.deepEqual([last.action, last.alias, last.from, last.to, last.reason], ['delete', 'champion', 2, null, 'bad model']);
    const v3 = await r.createVersion('clf', version('b'.repeat(32)));
    assert.equal(v3.version.version, 3, 'the deleted content registers anew, under a new number');
  });

  test(`${label}: descriptions of models and versions; deleting a model`, async (t) => {
    const r = await factory(t);
    await r.createVersion('clf', version('a'.repeat(32)));
    await r.setDescription('clf', null, 'obesity levels');
    await r.setDescription('clf', 1, 'baseline');
    assert.equal((await r.getModel('clf')).description, 'obesity levels');
    assert.equal((await r.getVersion('clf', 1)).description, 'baseline');
    assert.equal((await r.getVersion('clf', 1)).content, `${'a'.repeat(32)}.dir`, 'content never changes');
    await r.deleteModel('clf');
    await usageError(r.getModel('clf'), /no registered model/);
    assert.deepEqual(await r.listModels(), []);
  });

  test(`${label}: exclusive sections never interleave, and may nest`, async (t) => {
    const r = await factory(t);
    const trace: string[] = [];
    const section = (id: string) =>
      r.exclusive(async () => {
        trace.push(`${id}<`);
        await new Promise((done) => setTimeout(done, 20));
        await r.exclusive(async () => trace.push(`${id}.`));
        trace.push(`>${id}`);
      });
    await Promise.all([section('a'), section('b'), section('c')]);
    assert.deepEqual(trace, ['a<', 'a.', '>a', 'b<', 'b.', '>b', 'c<', 'c.', '>c']);
    await assert.rejects(r.exclusive(async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await r.exclusive(async () => 'still usable'), 'still usable');
  });

  test(`${label}: a model exported and imported elsewhere is the same model, numbers, history and all; importing again changes nothing`, async (t) => {
    const a = await factory(t);
    await a.createVersion('clf', version('a'.repeat(32), { description: 'one' }));
    await a.createVersion('clf', version('b'.repeat(32)));
    await a.createVersion('clf', version('c'.repeat(32)));
    await a.setAlias('clf', 'champion', 3, { action: 'promote', user: 'bob', reason: 'gates passed', gates: { passed: true, checks: [{ metric: 'f1' }] } });
    await a.deleteVersion('clf', 2, { action: 'delete', user: 'alice', reason: 'bad' });
    await a.setDescription('clf', null, 'the model');
    const snapshot = await a.exportModel('clf');
    assert.deepEqual(snapshot.versions.map((v) => [v.version, v.deleted]), [[1, false], [2, true], [3, false]]);
    const b = await factory(t);
    await b.importModel(snapshot);
    assert.deepEqual(await b.exportModel('clf'), snapshot);
    await b.importModel(snapshot);
    assert.deepEqual(await b.exportModel('clf'), snapshot);
    assert.deepEqual(await b.getModel('clf'), await a.getModel('clf'));
    assert.deepEqual(await b.history('clf'), await a.history('clf'));
    assert.equal((await b.createVersion('clf', version('d'.repeat(32)))).version.version, 4, 'numbers go on after the copied ones');
    // A version number holding other content is a conflict, and nothing of the snapshot is taken.
    const c = await factory(t);
    await c.createVersion('clf', version('e'.repeat(32)));
    await assert.rejects(c.importModel(snapshot), (e: unknown) => e instanceof MlopsError && e.kind === 'conflict' && /version 1 holds other content/.test(e.message));
    assert.deepEqual((await c.listVersions('clf')).map((v) => v.content), [`${'e'.repeat(32)}.dir`]);
    assert.deepEqual([(await c.getModel('clf')).aliases, await c.history('clf')], [{}, []]);
    await usageError(a.exportModel('nope'), /no registered model/);
  });
}
