import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MlopsError } from '../src/core/errors.js';
import { BullQueue } from '../src/queue/bullmq.js';
import { LocalQueue } from '../src/queue/local.js';
import { KILLED, UnrecoverableJobError, type JobQueue, type Settled } from '../src/queue/queue.js';
import { tempDir } from './helpers.js';
import { testBroker } from './redis.js';

// The behaviour every JobQueue has, whatever keeps the jobs: the embedded one (files under .mlops/queue)
// and BullMQ on a real Redis (a key prefix of the test's own, deleted after). A consumer killed with
// SIGKILL is a real child process.

type After = { after(fn: () => void | Promise<void>): void };

interface Opened {
  readonly queue: JobQueue;
  /** What test/queue-child.ts needs to open the same queue in another process. */
  readonly spec: Record<string, unknown>;
  /** Another handle on the same queue (another process would have its own). */
  reopen(): Promise<JobQueue>;
}

const STALL_MS = 1500;

const IMPLEMENTATIONS: { name: string; open(t: After): Promise<Opened> }[] = [
  {
    name: 'embedded (.mlops/queue)',
    open: async (t) => {
      const dir = join(tempDir(t), 'queue');
      return { queue: new LocalQueue(dir), spec: { dir }, reopen: async () => new LocalQueue(dir) };
    },
  },
  {
    name: 'BullMQ (Redis)',
    open: async (t) => {
      const { url, prefix } = await testBroker(t);
      const opened: JobQueue[] = [];
      const open = async () => {
        const q = await BullQueue.open(url, prefix, 'contract');
        opened.push(q);
        return q;
      };
      t.after(async () => {
        for (const q of opened) await q.close();
      });
      return { queue: await open(), spec: { url, prefix, name: 'contract' }, reopen: open };
    },
  },
];

const settledAll = async (queue: JobQueue, ids: string[]) => {
  const seen: Settled[] = [];
  await queue.waitFor(ids, (job) => seen.push(job));
  return seen;
};

for (const impl of IMPLEMENTATIONS) {
  const contract = (name: string, fn: (opened: Opened, t: After) => Promise<void>) => test(`${impl.name}: ${name}`, async (t) => fn(await impl.open(t), t));

  contract('jobs are queued with their data, listed oldest first, found by id; ids are unique and checked', async ({ queue }) => {
    const a = await queue.add({ name: 'experiment', data: { overrides: ['train.seed=1'] } });
    const [b, c] = await queue.addMany([
      { name: 'fold', data: { n: 1 }, id: 'grid1.0' },
      { name: 'fold', data: { n: 2 }, id: 'grid1.1', attempts: 5 },
    ]);
    assert.match(a.id, /^[0-9a-f]{8}$/);
    assert.equal(a.state, 'queued');
    assert.equal(c!.maxAttempts, 5);
    const listed = await queue.list();
    assert.deepEqual(listed.map((j) => j.id), [a.id, b!.id, c!.id]);
    assert.deepEqual((await queue.get(a.id))?.data, { overrides: ['train.seed=1'] });
    assert.equal((await queue.get('grid1.1'))?.state, 'queued');
    assert.equal(await queue.get('nope'), undefined);
    await assert.rejects(queue.add({ name: 'fold', data: {}, id: 'grid1.0' }), (e) => e instanceof MlopsError && /already in the queue/.test(e.message));
    for (const bad of ['12345', 'a:b', 'a/b', '']) await assert.rejects(queue.add({ name: 'fold', data: {}, id: bad }), MlopsError);
  });

  contract('a consumer runs each job once, keeps its result and log; waitFor reports each job once', async ({ queue }) => {
    const jobs = await queue.addMany(Array.from({ length: 6 }, (_, i) => ({ name: 'fold', data: { i } })));
    const ran: number[] = [];
    const consumer = queue.consume(
      async ({ job, log }) => {
        const { i } = job.data as { i: number };
        ran.push(i);
        await log(`fitting ${i}`);
        return { score: i / 10 };
      },
      { concurrency: 2 },
    );
    const seen = await settledAll(queue, jobs.map((j) => j.id));
    await consumer.close('finish');
    assert.deepEqual(ran.sort(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(seen.map((j) => j.id).sort(), jobs.map((j) => j.id).sort());
    for (const job of seen) {
      const { i } = jobs.find((j) => j.id === job.id)!.data;
      assert.deepEqual(job, { id: job.id, state: 'done', result: { score: i / 10 } });
      assert.equal((await queue.get(job.id))?.attempts, 1);
    }
    assert.deepEqual(await queue.logs(jobs[4]!.id), ['fitting 4']);
  });

  contract('a failing job is retried with backoff and its log spans the attempts; a poisoned one ends FAILED with its log', async ({ queue }) => {
    const flaky = await queue.add({ name: 'fold', data: 'flaky', attempts: 3, backoffMs: 200 });
    const poison = await queue.add({ name: 'fold', data: 'poison', attempts: 2, backoffMs: 100 });
    const starts: number[] = [];
    const consumer = queue.consume(
      async ({ job, log }) => {
        await log(`attempt ${job.attempts}`);
        if (job.data === 'poison') throw new Error('cannot parse row 7');
        starts.push(Date.now());
        if (job.attempts < 3) throw new Error(`flaky ${job.attempts}`);
        return 'ok';
      },
      { concurrency: 1 },
    );
    const seen = await settledAll(queue, [flaky.id, poison.id]);
    await consumer.close('finish');
    assert.deepEqual(seen.find((j) => j.id === flaky.id), { id: flaky.id, state: 'done', result: 'ok' });
    assert.equal((await queue.get(flaky.id))?.attempts, 3);
    assert.deepEqual(seen.find((j) => j.id === poison.id), { id: poison.id, state: 'failed', error: 'cannot parse row 7', attempts: 2 });
    assert.ok(starts[1]! - starts[0]! >= 180, `first retry after the backoff (${starts[1]! - starts[0]!} ms)`);
    assert.ok(starts[2]! - starts[1]! >= 380, `second retry after twice the backoff (${starts[2]! - starts[1]!} ms)`);
    assert.deepEqual(await queue.logs(flaky.id), ['attempt 1', 'attempt 2', 'attempt 3']);
    const failed = (await queue.get(poison.id))!;
    assert.equal(failed.state, 'failed');
    assert.equal(failed.attempts, 2);
    assert.equal(failed.error, 'cannot parse row 7');
    assert.deepEqual(await queue.logs(poison.id), ['attempt 1', 'attempt 2']);
  });

  contract('an unrecoverable error fails the job at its first attempt', async ({ queue }) => {
    const job = await queue.add({ name: 'experiment', data: {}, attempts: 5, backoffMs: 50 });
    const consumer = queue.consume(async () => { throw new UnrecoverableJobError('commit 0123abc is not in this repository'); }, { concurrency: 1 });
    const [seen] = await settledAll(queue, [job.id]);
    await consumer.close('finish');
    assert.deepEqual(seen, { id: job.id, state: 'failed', attempts: 1, error: 'commit 0123abc is not in this repository' });
  });

  contract('remove and clear take queued and ended jobs, never a running one; kill fails a running job at once', async ({ queue }) => {
    const [a, b, c] = await queue.addMany([{ name: 'x', data: 1, id: 'job-a' }, { name: 'x', data: 2, id: 'job-b' }, { name: 'x', data: 3, id: 'job-c' }]);
    assert.equal(await queue.remove(a!.id), true);
    assert.equal(await queue.remove(a!.id), false);
    let aborted: unknown;
    const consumer = queue.consume(
      ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(new Error(String((aborted = signal.reason)))));
        }),
      { concurrency: 1 },
    );
    for (let i = 0; i < 100 && (await queue.get(b!.id))?.state !== 'running'; i++) await sleep(50);
    assert.equal((await queue.get(b!.id))?.state, 'running');
    await assert.rejects(queue.remove(b!.id), /running: use mlops queue kill/);
    assert.equal(await queue.clear(), 1, 'the queued job c is cleared, the running one stays');
    assert.equal(await queue.get(c!.id), undefined);
    await queue.kill(b!.id);
    const [killed] = await settledAll(queue, [b!.id]);
    await consumer.close('finish');
    assert.equal(aborted, KILLED);
    assert.deepEqual(killed, { id: b!.id, state: 'failed', error: KILLED, attempts: 1 }, 'a kill is not retried');
    await queue.add({ name: 'x', data: 4, id: 'job-d' });
    await queue.kill('job-d');
    assert.equal(await queue.get('job-d'), undefined, 'killing a queued job removes it');
  });

  contract("closing with 'return' puts the running job back without using an attempt; 'finish' lets it end", async ({ queue, reopen }) => {
    const job = await queue.add({ name: 'experiment', data: {}, attempts: 1 });
    const first = queue.consume(({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))), { concurrency: 1 });
    for (let i = 0; i < 100 && (await queue.get(job.id))?.state !== 'running'; i++) await sleep(50);
    await first.close('return');
    assert.equal((await queue.get(job.id))?.state, 'queued');
    const other = await reopen();
    let release: () => void = () => {};
    const second = other.consume(async () => new Promise<string>((resolve) => (release = () => resolve('finished'))), { concurrency: 1 });
    for (let i = 0; i < 100 && (await queue.get(job.id))?.state !== 'running'; i++) await sleep(50);
    const closing = second.close('finish');
    await sleep(300);
    assert.equal((await queue.get(job.id))?.state, 'running', 'finish waits for the running job');
    release();
    await closing;
    const done = (await queue.get(job.id))!;
    assert.equal(done.state, 'done');
    assert.equal(done.result, 'finished');
  });

  contract('a consumer started until-empty stops once nothing is queued or running', async ({ queue }) => {
    await queue.addMany([{ name: 'x', data: 1 }, { name: 'x', data: 2 }]);
    let count = 0;
    const consumer = queue.consume(async () => ++count, { concurrency: 1, untilEmpty: true });
    await consumer.stopped;
    assert.equal(count, 2);
    assert.ok((await queue.list()).every((j) => j.state === 'done'));
  });

  contract('a consumer killed with SIGKILL mid-job loses the job to another after the visibility timeout', async ({ queue, spec, reopen }) => {
    const job = await queue.add({ name: 'experiment', data: {}, attempts: 3 });
    const child = spawn(process.execPath, [join(import.meta.dirname, 'queue-child.js'), JSON.stringify({ ...spec, stallMs: STALL_MS })], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes(`started ${job.id}`) && resolve());
      child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const other = await reopen();
    const ran: number[] = [];
    const killedAt = Date.now();
    const consumer = other.consume(async ({ job: j }) => ran.push(j.attempts), { concurrency: 1, stallMs: STALL_MS });
    const [done] = await settledAll(other, [job.id]);
    await consumer.close('finish');
    assert.equal(done!.state, 'done');
    assert.deepEqual(ran, [2], 'run once more, as its second attempt');
    assert.ok(Date.now() - killedAt < STALL_MS * 6, 'picked up within a few visibility timeouts');
  });
}
