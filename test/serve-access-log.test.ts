import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { accessLine, BufferedLines } from '../src/serve/access-log.js';

// The access log's lines leave in chunks, in order, and none is left behind by a close; each is the
// JSON object pino wrote before (log shippers parse these keys).

function collector(): { out: Writable; chunks: string[] } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { out, chunks };
}

test('lines written together leave as one chunk, in order, after a short wait', async () => {
  const { out, chunks } = collector();
  const lines = new BufferedLines(out);
  for (let i = 0; i < 100; i++) lines.write(`{"n":${i}}\n`);
  assert.equal(chunks.length, 0, 'nothing is written per line');
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(chunks.length, 1);
  assert.deepEqual(chunks[0]!.trim().split('\n').map((l) => JSON.parse(l).n), [...Array(100).keys()]);
  lines.close();
});

test('close writes what is pending, and a line after it goes out at once', () => {
  const { out, chunks } = collector();
  const lines = new BufferedLines(out);
  lines.write('a\n');
  lines.close();
  assert.deepEqual(chunks, ['a\n']);
  lines.write('b\n');
  assert.deepEqual(chunks, ['a\n', 'b\n']);
});

test('a large backlog is written without waiting for the timer', () => {
  const { out, chunks } = collector();
  const lines = new BufferedLines(out);
  const line = `${'x'.repeat(1023)}\n`;
  for (let i = 0; i < 64; i++) lines.write(line);
  assert.equal(chunks.length, 1);
  assert.equal(chunks[0]!.length, 64 * 1024);
  lines.close();
});

test('an access line is one JSON object: level, time, pid, hostname, then the request, escaped', () => {
  const line = accessLine({ reqId: 'id "1"', method: 'POST', url: '/predict?q=a\nb', route: '/predict', status: 200, durationMs: 0.91234, client: '127.0.0.1' }, 1_700_000_000_000);
  assert.ok(line.endsWith('}\n') && !line.slice(0, -1).includes('\n'), 'one line');
  const parsed = JSON.parse(line);
  assert.deepEqual(Object.keys(parsed), ['level', 'time', 'pid', 'hostname', 'reqId', 'method', 'url', 'route', 'status', 'duration_ms', 'client', 'msg']);
  assert.deepEqual(parsed, { level: 30, time: 1_700_000_000_000, pid: process.pid, hostname: hostname(), reqId: 'id "1"', method: 'POST', url: '/predict?q=a\nb', route: '/predict', status: 200, duration_ms: 0.912, client: '127.0.0.1', msg: 'request' });
});
