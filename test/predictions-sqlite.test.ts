import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { predictionBackend } from '../src/predictions/open.js';
import { PROJECT_ROOT, tempDir } from './helpers.js';
import { predictionLogContract, record } from './prediction-log-contract.js';

// The SQLite prediction log: the contract, then several processes appending to one file at once
// (what `mlops serve --workers N` does) with no row lost.

predictionLogContract('sqlite', (t) => predictionBackend('sqlite:///log/predictions.db', tempDir(t)));
// What a server writes through: the same sink in a worker thread.
predictionLogContract('sqlite in a writer thread', (t) => {
  const backend = predictionBackend('sqlite:///log/predictions.db', tempDir(t));
  return { ...backend, sink: backend.threadSink };
});

test('sqlite in a writer thread: the event loop keeps running while a batch is written', async (t) => {
  const backend = predictionBackend('predictions.db', tempDir(t));
  const sink = await backend.threadSink();
  const batch = Array.from({ length: 20_000 }, (_, i) => record(i));
  // Timers keep firing while the thread writes; in this thread they could not fire until the end.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  await sink.write(batch);
  clearInterval(timer);
  await sink.close();
  assert.ok(ticks >= 10, `timers fired ${ticks} times during the write`);
  const reader = await backend.reader();
  t.after(() => reader.close());
  assert.equal(await reader.count({}), 20_000);
});

test('sqlite: four processes appending at once lose no row', async (t) => {
  const dir = tempDir(t);
  const url = (rel: string) => JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'dist', rel)).href);
  // Each writer appends 2,000 rows in small batches written every 2 ms, so their transactions collide.
  const script = `
    const { predictionBackend } = await import(${url('src/predictions/open.js')});
    const { BatchedPredictionLog } = await import(${url('src/predictions/batched.js')});
    const { record } = await import(${url('test/prediction-log-contract.js')});
    const backend = predictionBackend('predictions.db', process.cwd());
    const log = new BatchedPredictionLog(await backend.sink(), (e) => { console.error(e.message); process.exit(1); }, { intervalMs: 2 });
    for (let i = 0; i < 2000; i++) {
      log.append([record(i, { request_id: process.argv[1] + '-' + i })]);
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await log.close();
  `;
  const codes = await Promise.all(
    ['a', 'b', 'c', 'd'].map(
      (name) =>
        new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script, name], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
          child.on('close', resolve);
        }),
    ),
  );
  assert.deepEqual(codes, [0, 0, 0, 0]);
  const reader = await (predictionBackend('predictions.db', dir)).reader();
  t.after(() => reader.close());
  assert.equal(await reader.count({}), 8000);
  const ids = new Set<string>();
  for await (const r of reader.rows({})) ids.add(r.request_id);
  assert.equal(ids.size, 8000, 'every row once');
});
