import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Limit, pool } from '../src/remote/pool.js';

// The S3 store runs its multipart uploads through a Limit inside the -j pool: whatever -j, only that
// many big files hold parts in memory at once.

test('a Limit inside a wider pool: never more than its slots at once, every task run, in arrival order', async () => {
  const limit = new Limit(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  await pool(Array.from({ length: 12 }, (_, i) => i), 8, (i) =>
    limit.run(async () => {
      started.push(i);
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5 + (i % 3) * 5));
      running--;
    }),
  );
  assert.equal(most, 2);
  assert.deepEqual(started, Array.from({ length: 12 }, (_, i) => i));
});

test('a Limit frees the slot of a task that failed, and passes its error on', async () => {
  const limit = new Limit(1);
  await assert.rejects(limit.run(async () => Promise.reject(new Error('part refused'))), /part refused/);
  assert.equal(await limit.run(async () => 'next'), 'next');
});
