import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { BufferedLines } from '../src/serve/access-log.js';

// The access log's lines leave in chunks, in order, and none is left behind by a close.

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
