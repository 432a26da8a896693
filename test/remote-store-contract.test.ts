import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { objectKey, objectsOnRemote } from '../src/remote/exists.js';
import { FolderRemoteStore } from '../src/remote/local.js';
import { MULTIPART_THRESHOLD, S3RemoteStore } from '../src/remote/s3.js';
import { ObjectMissingError, RemoteAccessError, TransientRemoteError, type RemoteStore } from '../src/remote/store.js';
import { startS3Server, tempDir, type S3Server } from './helpers.js';

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

  test(`${name}: an empty object comes back empty (S3 refuses a range of it: asked for whole)`, async (t) => {
    const store = await open(t);
    const dir = tempDir(t);
    const key = objectKey(md5(''));
    await store.put(key, file(dir, 'empty', ''), 0);
    assert.equal(await store.get(key, join(dir, 'back')), md5(''));
    assert.equal(statSync(join(dir, 'back')).size, 0);
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

/** Requests the proxy below alters, each picked by a test. */
interface Alter {
  /** The first request it picks: the connection dropped after 1 MiB of the answer. */
  cut?: (req: IncomingMessage) => boolean;
  /** Answered without a Content-Length (so in chunks), as some S3-compatible servers do. */
  chunked?: (req: IncomingMessage) => boolean;
  /** Answered 403 with S3's AccessDenied. */
  forbid?: (req: IncomingMessage) => boolean;
}

/** An HTTP proxy in front of s3rver that sees every request: how many ranged GETs run at once, and the ones `alter` picks. */
async function proxy(t: { after(fn: () => Promise<void> | void): void }, server: S3Server, alter: Alter = {}) {
  const target = new URL(server.endpoint);
  const seen = { ranged: 0, atOnce: 0, maxAtOnce: 0, cut: 0, chunked: 0, forbidden: 0 };
  const http = createServer((req, res) => {
    const ranged = req.method === 'GET' && req.headers.range !== undefined;
    if (ranged) {
      seen.ranged++;
      seen.maxAtOnce = Math.max(seen.maxAtOnce, ++seen.atOnce);
      res.on('close', () => seen.atOnce--);
    }
    const cutThis = seen.cut === 0 && alter.cut?.(req) === true;
    if (cutThis) seen.cut++;
    if (alter.forbid?.(req)) {
      seen.forbidden++;
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
      return;
    }
    const chunked = alter.chunked?.(req) === true;
    if (chunked) seen.chunked++;
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const { 'content-length': length, ...headers } = answer.headers;
      res.writeHead(answer.statusCode!, chunked ? headers : { ...headers, 'content-length': length });
      let sent = 0;
      answer.on('data', (chunk: Buffer) => {
        res.write(chunk);
        if (cutThis && (sent += chunk.length) >= 1 << 20) {
          answer.destroy();
          res.socket?.destroy();
        }
      });
      answer.on('end', () => res.end());
    });
    req.pipe(upstream);
  });
  await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
  t.after(() => new Promise<void>((done) => http.close(() => done())));
  t.after(() => void http.closeAllConnections());
  const store = new S3RemoteStore({ bucket: 'bucket', prefix: '', endpointurl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', jobs: 8 });
  t.after(() => store.close());
  return { store, seen };
}

/** A big object on a fresh s3rver (put directly, not through the proxy), and its bytes. */
async function bigObject(t: Parameters<typeof tempDir>[0] & { after(fn: () => Promise<void> | void): void }, bytes: number) {
  const server = await startS3Server(t, ['bucket']);
  const direct = new S3RemoteStore({ bucket: 'bucket', prefix: '', endpointurl: server.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', jobs: 8 });
  t.after(() => direct.close());
  const dir = tempDir(t);
  const data = randomBytes(bytes);
  const key = objectKey(md5(data));
  await direct.put(key, file(dir, 'big', data), data.length);
  return { server, direct, dir, data, key, stored: join(server.directory, 'bucket', `${key}._S3rver_object`) };
}

test('s3: a big object comes down as ranged parts at once, written whole, its md5 that of the bytes', async (t) => {
  const { server, dir, data, key } = await bigObject(t, 40 * 1024 * 1024 + 123);
  const { store, seen } = await proxy(t, server);
  let got = 0;
  assert.equal(await store.get(key, join(dir, 'back'), (n) => (got += n)), md5(data));
  assert.ok(readFileSync(join(dir, 'back')).equals(data));
  assert.equal(statSync(join(dir, 'back')).mode & 0o777, 0o444);
  assert.equal(got, data.length);
  assert.equal(seen.ranged, 6); // 8 MiB parts
  assert.ok(seen.maxAtOnce > 1, `parts at once: ${seen.maxAtOnce}`);
});

/** Bytes of `path` held in the page cache (util-linux's fincore). */
function cached(path: string): number {
  const r = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

test('s3: a big object and its workspace copy are written whole, around the page cache on a local disk and through it elsewhere', async (t) => {
  const { direct: store, dir, data, key } = await bigObject(t, 20 * 1024 * 1024 + 123); // an unaligned tail
  // This machine's temp folder is on ext4 (O_DIRECT: only the tail's page is cached); /dev/shm is tmpfs.
  const memory = mkdtempSync('/dev/shm/mlops-test-');
  t.after(() => rmSync(memory, { recursive: true, force: true }));
  for (const [where, local] of [[dir, [0xef53, 0x58465342, 0x9123683e].includes(statfsSync(dir).type)], [memory, false]] as const) {
    const [object, copy] = [join(where, 'object'), join(where, 'copy')];
    assert.equal(await store.get(key, object, undefined, copy), md5(data));
    for (const [path, mode] of [[object, 0o444], [copy, 0o644]] as const) {
      assert.equal(statSync(path).mode & 0o777, mode);
      if (local) assert.ok(cached(path) <= 4096, `${path}: ${cached(path)} bytes in the page cache`);
      else assert.equal(cached(path), data.length + 4096 - (data.length % 4096));
      assert.ok(readFileSync(path).equals(data));
    }
  }
});

test('s3: a damaged byte in a big object on the server: the md5 returned is that of what arrived, not the name', async (t) => {
  const { dir, data, key, stored, server } = await bigObject(t, 20 * 1024 * 1024);
  const fd = openSync(stored, 'r+');
  writeSync(fd, Buffer.from([data[13 * 1024 * 1024]! ^ 1]), 0, 1, 13 * 1024 * 1024);
  closeSync(fd);
  const { store } = await proxy(t, server);
  assert.notEqual(await store.get(key, join(dir, 'back')), md5(data));
});

test('s3: a connection dropped in the middle of a part: the get fails as transient, its parts stopped, and the next brings it whole', async (t) => {
  const { dir, data, key, server } = await bigObject(t, 30 * 1024 * 1024);
  const { store, seen } = await proxy(t, server, { cut: (req) => req.headers.range?.startsWith('bytes=8388608-') === true });
  await assert.rejects(store.get(key, join(dir, 'first')), TransientRemoteError);
  assert.equal(seen.cut, 1);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(seen.atOnce, 0); // no part is still being received
  assert.equal(await store.get(key, join(dir, 'second')), md5(data));
  assert.ok(readFileSync(join(dir, 'second')).equals(data));
});

// Parts after the first are read from the socket straight into write blocks (range-socket.ts); an
// answer that is not a plain 206 with a Content-Length is asked again through the SDK's client.
const secondPart = (req: IncomingMessage) => req.method === 'GET' && req.headers.range?.startsWith('bytes=8388608-') === true;

test('s3: a part answered in chunks (no Content-Length) is asked again through the SDK, and the object comes whole', async (t) => {
  const { dir, data, key, server } = await bigObject(t, 20 * 1024 * 1024 + 5);
  const { store, seen } = await proxy(t, server, { chunked: secondPart });
  assert.equal(await store.get(key, join(dir, 'back')), md5(data));
  assert.ok(readFileSync(join(dir, 'back')).equals(data));
  assert.equal(seen.chunked, 2); // read from the socket, then through the SDK
  assert.equal(seen.ranged, 4);
});

test("s3: a part refused (403) fails the get as the remote's access error, not as a broken answer", async (t) => {
  const { dir, key, server } = await bigObject(t, 20 * 1024 * 1024);
  const { store, seen } = await proxy(t, server, { forbid: secondPart });
  await assert.rejects(store.get(key, join(dir, 'back')), (error: Error) => error instanceof RemoteAccessError && /access denied/.test(error.message));
  assert.equal(seen.forbidden, 2);
});
