import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { objectKey, objectsOnRemote } from '../src/remote/exists.js';
import { FolderRemoteStore } from '../src/remote/local.js';
import { MULTIPART_THRESHOLD, S3RemoteStore } from '../src/remote/s3.js';
import { ObjectMissingError, type RemoteStore } from '../src/remote/store.js';
import { startS3Server, tempDir } from './helpers.js';

// One contract every remote store passes: a folder (shared, NFS) and a real S3 server (s3rver on 127.0.0.1).

type Ctx = Parameters<typeof tempDir>[0];

const backends: Record<string, (t: Ctx & { after(fn: () => Promise<void> | void): void }) => Promise<RemoteStore>> = {
  folder: async (t) => new FolderRemoteStore(join(tempDir(t), 'remote')),
  s3: async (t) => {
    const server = await startS3Server(t, ['bucket']);
    const store = new S3RemoteStore({ bucket: 'bucket', prefix: 'team/project/', endpointurl: server.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', jobs: 8 });
    t.after(() => store.close());
    return store;
  },
};

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

function file(dir: string, name: string, data: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

for (const [name, open] of Object.entries(backends)) {
  test(`${name}: put, exists, get (hashed as it streams), a missing key`, async (t) => {
    const store = await open(t);
    const dir = tempDir(t);
    const data = 'hello remote\n';
    const key = objectKey(md5(data));
    assert.equal(await store.exists(key), false);
    await store.put(key, file(dir, 'a', data), data.length);
    assert.equal(await store.exists(key), true);
    const dest = join(dir, 'back');
    assert.equal(await store.get(key, dest), md5(data));
    assert.equal(readFileSync(dest, 'utf8'), data);
    await assert.rejects(store.get(objectKey('0'.repeat(32)), join(dir, 'none')), ObjectMissingError);
    assert.equal(await store.exists(objectKey('0'.repeat(32))), false);
  });

  test(`${name}: list gives every key under a prefix, past one page (1000 keys)`, async (t) => {
    const store = await open(t);
    const dir = tempDir(t);
    const source = file(dir, 'x', 'x');
    const keys = Array.from({ length: 1002 }, (_, i) => `files/md5/${(i % 3).toString(16).padStart(2, '0')}/${md5(String(i)).slice(2)}`);
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < keys.length) await store.put(keys[next++]!, source, 1);
    }));
    await store.put('runs/ab/other', source, 1);
    const listed: string[] = [];
    for await (const key of store.list('files/md5/')) listed.push(key);
    assert.deepEqual(listed.sort(), [...keys].sort());
    const second: string[] = [];
    for await (const key of store.list('files/md5/01/')) second.push(key);
    assert.equal(second.length, 334);
  });

  test(`${name}: a file above the multipart threshold goes up and comes back whole, with progress`, async (t) => {
    const store = await open(t);
    const dir = tempDir(t);
    const data = randomBytes(MULTIPART_THRESHOLD + 3 * 1024 * 1024 + 7);
    const key = objectKey(md5(data));
    let sent = 0;
    await store.put(key, file(dir, 'big', data), data.length, (n) => (sent += n));
    assert.equal(sent, data.length);
    let got = 0;
    assert.equal(await store.get(key, join(dir, 'back'), (n) => (got += n)), md5(data));
    assert.equal(got, data.length);
  });

  test(`${name}: which objects are there, by HEAD for a few and by listing for many (same answer)`, async (t) => {
    const store = await open(t);
    const dir = tempDir(t);
    const present = Array.from({ length: 40 }, (_, i) => md5(`present ${i}`));
    for (const m of present) await store.put(objectKey(m), file(dir, m, m), 32);
    const absent = Array.from({ length: 40 }, (_, i) => md5(`absent ${i}`));
    const one = await objectsOnRemote(store, new Set([present[0]!]), 4);
    assert.deepEqual([...one.found], [present[0]]);
    assert.equal(one.method, 'head');
    const many = await objectsOnRemote(store, new Set([...present, ...absent]), 4);
    assert.deepEqual([...many.found].sort(), [...present].sort());
    // An object store lists (40 objects is one page); a folder answers each with a stat, as DVC's local remote.
    assert.equal(many.method, store.prefersListing ? 'list' : 'head');
  });
}

test('folder: a put is never half-visible (temp name, then rename) and objects are read-only', async (t) => {
  const root = join(tempDir(t), 'remote');
  const store = new FolderRemoteStore(root);
  const dir = tempDir(t);
  const key = objectKey(md5('y'));
  await store.put(key, file(dir, 'y', 'y'), 1);
  const path = join(root, ...key.split('/'));
  assert.equal(statSync(path).mode & 0o777, 0o444);
  assert.deepEqual(readdirSync(dirname(path)), [basename(path)]);
});
