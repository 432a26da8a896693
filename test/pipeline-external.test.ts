// External dependencies as DVC takes them: an absolute local path (md5, recorded as DVC records it)
// and an http(s) URL fingerprinted by its ETag (else Last-Modified and size), served here by a real
// HTTP server on 127.0.0.1.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMlops, tempDir, writeFiles } from './helpers.js';

const ran = (dir: string) => (existsSync(join(dir, 'runs.log')) ? readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n') : []);

async function serve(t: { after(fn: () => Promise<void> | void): void }, headers: () => Record<string, string>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', ...headers() });
    res.end(req.method === 'HEAD' ? undefined : 'data\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/wine.data`, server };
}

test('an absolute local dependency is hashed (md5) and recorded as written; changing it re-runs the stage', async (t) => {
  const outside = tempDir(t);
  writeFileSync(join(outside, 'ext.csv'), 'a,b\n1,2\n');
  const dir = tempDir(t);
  const ext = join(outside, 'ext.csv');
  writeFiles(dir, { 'dvc.yaml': `stages:\n  s:\n    cmd: echo s >> runs.log && cat ${ext} > copy.csv\n    deps: [${ext}]\n    outs: [copy.csv]\n` });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  const lock = readFileSync(join(dir, 'dvc.lock'), 'utf8');
  const md5 = createHash('md5').update('a,b\n1,2\n').digest('hex');
  assert.ok(lock.includes(`    deps:\n    - path: ${ext}\n      hash: md5\n      md5: ${md5}\n      size: 8\n`), lock);
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  assert.deepEqual(ran(dir), ['s']);
  writeFileSync(ext, 'a,b\n3,4\n');
  const status = await runMlops(['status', '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(status.stdout), { s: [`dep '${ext}' modified`] });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  assert.deepEqual(ran(dir), ['s', 's']);
});

test('an http(s) dependency: ETag recorded, a new ETag re-runs the stage; Last-Modified + size without one', async (t) => {
  let etag = '"v1"';
  const { url } = await serve(t, () => ({ etag, 'content-length': '5' }));
  const dir = tempDir(t);
  writeFiles(dir, { 'dvc.yaml': `stages:\n  fetch:\n    cmd: echo fetch >> runs.log && echo got > got.txt\n    deps: [${url}]\n    outs: [got.txt]\n` });
  const first = await runMlops(['repro'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(readFileSync(join(dir, 'dvc.lock'), 'utf8'), new RegExp(`- path: ${url.replaceAll('/', '\\/').replaceAll('.', '\\.')}\\n {6}etag: '"v1"'\\n {6}size: 5\\n`));
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  assert.deepEqual(ran(dir), ['fetch']);
  etag = '"v2"';
  const status = await runMlops(['status', '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(status.stdout), { fetch: [`dep '${url}' modified`] });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  assert.deepEqual(ran(dir), ['fetch', 'fetch']);

  let modified = 'Mon, 30 Nov 2026 01:00:00 GMT';
  const second = await serve(t, () => ({ 'last-modified': modified, 'content-length': '5' }));
  writeFiles(dir, { 'dvc.yaml': `stages:\n  fetch:\n    cmd: echo fetch >> runs.log && echo got > got.txt\n    deps: [${second.url}]\n    outs: [got.txt]\n` });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  assert.match(readFileSync(join(dir, 'dvc.lock'), 'utf8'), /last_modified: Mon, 30 Nov 2026 01:00:00 GMT\n {6}size: 5\n/);
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  assert.deepEqual(ran(dir), ['fetch', 'fetch', 'fetch']);
  modified = 'Mon, 30 Nov 2026 02:00:00 GMT';
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  assert.deepEqual(ran(dir), ['fetch', 'fetch', 'fetch', 'fetch']);
});

test('an unreachable URL dependency is one clear line naming it, exit 1, not a silent "unchanged"', async (t) => {
  const { url, server } = await serve(t, () => ({ etag: '"v1"' }));
  const dir = tempDir(t);
  writeFiles(dir, { 'dvc.yaml': `stages:\n  fetch:\n    cmd: echo got > got.txt\n    deps: [${url}]\n    outs: [got.txt]\n` });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const args of [['repro'], ['status']]) {
    const r = await runMlops(args, { cwd: dir });
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stderr, `error: dependency '${url}' could not be reached: ECONNREFUSED\n`);
  }
});
