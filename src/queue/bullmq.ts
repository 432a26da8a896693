import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { UsageError } from '../core/errors.js';
import { errorText, newJobId } from './local.js';
import {
  DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS, DEFAULT_STALL_MS, KILLED, RETURNED, UnrecoverableJobError,
  type ConsumeOptions, type Consumer, type JobContext, type JobInfo, type JobHandler, type JobQueue, type JobState, type NewJob, type Settled,
} from './queue.js';

// The queue on BullMQ (Redis, through ioredis): workers on any machine that reaches the broker. BullMQ gives the lease
// (a job lock renewed while the handler runs; a job whose lock lapses is "stalled" and moved back to
// wait by any live worker), retries with exponential backoff, and per-job logs. What it has no word for
// is kept beside its keys: the kill requests (`<prefix>:<queue>:mlops:kill`, a set the workers poll).

type BullMQ = typeof import('bullmq');
type RedisClass = typeof import('ioredis').Redis;

/**
 * BullMQ and ioredis, loaded on first use with `require`: both are CommonJS, and an ESM import of them
 * has Node lex every file of BullMQ's re-export graph for its named exports, which doubled the CPU of
 * loading them (some 0.25 s more, paid by every `mlops train` that fans out, before its first job).
 */
function loadClient(): { bull: BullMQ; Redis: RedisClass } {
  const require = createRequire(import.meta.url);
  return { bull: require('bullmq') as BullMQ, Redis: (require('ioredis') as typeof import('ioredis')).Redis };
}

const STATES: Record<string, JobState> = {
  waiting: 'queued', delayed: 'queued', prioritized: 'queued', paused: 'queued', 'waiting-children': 'queued', wait: 'queued',
  active: 'running', completed: 'done', failed: 'failed',
};
const ALL_TYPES = ['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed'] as const;
const IDLE_TYPES = ['waiting', 'delayed', 'prioritized', 'completed', 'failed'] as const;
/** BullMQ reserves `:` in custom ids. */
const ID = /^(?!\d+$)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const KILL_POLL_MS = 500;
const WAIT_POLL_MS = 5000;
/**
 * While more than PACE_ABOVE of its jobs are pending, waitFor pauses between its reads of the events
 * stream: at most PACE_MS, and a quarter of the time the pending jobs should take at the rate the last
 * PACE_ABOVE ended (a grid's last jobs are its smallest: the pause shrinks as they speed up), so the
 * pauses do not hold back the last result.
 */
const PACE_MS = 100;
const PACE_ABOVE = 16;

/**
 * Checks that the broker answers, with bounded retries, so a wrong or unreachable `queue.url` is one
 * line (exit 2) instead of endless reconnecting.
 */
async function checkBroker(Redis: RedisClass, url: string, attempts = 3): Promise<void> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 3000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (error) {
      last = error;
    } finally {
      client.disconnect();
    }
    if (i < attempts - 1) await sleep(250 * 2 ** i);
  }
  throw new UsageError(`queue.url ${url}: no Redis answers there after ${attempts} attempts (${errorText(last)})`);
}

/**
 * What opening a queue does before it connects, done ahead: loads the client (BullMQ, ioredis: some
 * 0.1-0.3 s of CPU) and checks that the broker at `url` answers. `train` does it before its search, so
 * the first jobs are not held back by it and a broker that does not answer fails train at once.
 */
export async function prepareBroker(url: string): Promise<void> {
  await checkBroker(loadClient().Redis, url);
}

/** Deletes every key under `prefix` (every queue of a project's prefix): for tests and benches that made one up. */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = loadClient();
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // the broker is gone (a test stopped its own): nothing left to delete
  } finally {
    client.disconnect();
  }
}

export class BullQueue implements JobQueue {
  private readonly connections: Redis[] = [];
  private readonly queue: Queue;
  /** A connection of our own: the kill set, and the light reads BullMQ has no call for (existence, ends). */
  private readonly meta: Redis;

  private constructor(
    private readonly bull: BullMQ,
    private readonly Redis: RedisClass,
    readonly location: string,
    private readonly prefix: string,
    private readonly name: string,
  ) {
    this.queue = new bull.Queue(name, { connection: this.connection({ pipelined: true }), prefix });
    this.meta = this.connection({ pipelined: true });
  }

  /** Opens queue `name` under `prefix` (BullMQ's key prefix) on the broker at `url`. */
  static async open(url: string, prefix: string, name: string): Promise<BullQueue> {
    const { bull, Redis } = loadClient();
    await checkBroker(Redis, url);
    return new BullQueue(bull, Redis, url, prefix, name);
  }

  /**
   * A connection that reconnects on its own (a broker restart); BullMQ's blocking reads need
   * maxRetriesPerRequest null. `pipelined`: the commands made in one tick go out in one write (a
   * grid's hundreds of jobs checked or removed at once cost the two processes a system call, not one
   * each); not for a connection that blocks (a worker's, an event reader's).
   */
  private connection({ pipelined = false } = {}): Redis {
    const client = new this.Redis(this.location, { maxRetriesPerRequest: null, enableAutoPipelining: pipelined });
    client.on('error', () => {}); // the callers see their commands fail meanwhile
    this.connections.push(client);
    return client;
  }

  private get killKey(): string {
    return `${this.prefix}:${this.name}:mlops:kill`;
  }

  async add<T>(job: NewJob<T>): Promise<JobInfo<T>> {
    return (await this.addMany([job]))[0]!;
  }

  async addMany<T>(jobs: readonly NewJob<T>[]): Promise<JobInfo<T>[]> {
    for (const job of jobs) if (job.id !== undefined && !ID.test(job.id)) throw new UsageError(`job id '${job.id}': letters, digits and . _ - only, not a number`);
    // A job's hash is there whatever its state: one EXISTS for the lot (a grid's folds are hundreds),
    // then, if any is taken, which one.
    const named = jobs.filter((job) => job.id !== undefined);
    if (named.length && (await this.meta.exists(...named.map((job) => this.queue.toKey(job.id!)))) > 0) {
      const taken = await Promise.all(named.map((job) => this.meta.exists(this.queue.toKey(job.id!))));
      throw new UsageError(`job '${named[taken.indexOf(1)]!.id}' is already in the queue`);
    }
    const added = await this.queue.addBulk(
      jobs.map((job) => ({
        name: job.name,
        data: job.data,
        opts: {
          jobId: job.id ?? newJobId(),
          attempts: job.attempts ?? DEFAULT_ATTEMPTS,
          backoff: { type: 'exponential', delay: job.backoffMs ?? DEFAULT_BACKOFF_MS },
        },
      })),
    );
    return added.map((job) => ({ ...this.info(job, 'queued') }) as JobInfo<T>);
  }

  async get(id: string): Promise<JobInfo | undefined> {
    if (!ID.test(id)) return undefined;
    // The state first: the job read after it is at least as far along (its result already written). Not
    // sent together: BullMQ's two calls need not reach the connection in the order they are made.
    const state = await this.queue.getJobState(id);
    const job = await this.queue.getJob(id);
    return job ? this.info(job, STATES[state] ?? 'queued') : undefined;
  }

  async list(): Promise<JobInfo[]> {
    const out: JobInfo[] = [];
    for (const type of ALL_TYPES) {
      for (const job of await this.queue.getJobs([type])) if (job) out.push(this.info(job, STATES[type]!));
    }
    return out.sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
  }

  async logs(id: string): Promise<string[]> {
    return ID.test(id) ? (await this.queue.getJobLogs(id, 0, -1, true)).logs : [];
  }

  async remove(id: string): Promise<boolean> {
    if (!ID.test(id) || !(await this.meta.exists(this.queue.toKey(id)))) return false;
    // BullMQ's removal leaves a job under a worker's lock: a running one. Two light round trips, not
    // the job read and its state computed (a grid's hundreds of jobs are removed at once).
    if ((await this.queue.remove(id)) === 1) return true;
    throw new UsageError(`job '${id}' is running: use mlops queue kill`);
  }

  async kill(id: string): Promise<void> {
    const job = ID.test(id) ? await this.queue.getJob(id) : undefined;
    if (!job) return;
    if ((await job.getState()) === 'active') await this.meta.sadd(this.killKey, id);
    else await job.remove().catch(() => undefined); // became active meanwhile: nothing to remove
  }

  async clear(): Promise<number> {
    let count = 0;
    for (const type of IDLE_TYPES) {
      for (const job of await this.queue.getJobs([type])) {
        if (!job) continue;
        await job.remove().catch(() => undefined);
        count++;
      }
    }
    return count;
  }

  consume(handler: JobHandler, options: ConsumeOptions): Consumer {
    const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
    const running = new Map<string, AbortController>();
    /** Jobs ended since the last round of the watch below, which clears their kill requests if any. */
    const ended: string[] = [];
    let returning = false;
    // Two parameters: BullMQ gives a processor that takes a third an AbortSignal of its own per job, which
    // only its cancelJob (not used: kills and returns abort `controller`) would abort.
    const processor = async (job: Job, token?: string) => {
      const controller = new AbortController();
      if (returning) controller.abort(RETURNED);
      running.set(job.id!, controller);
      const context: JobContext = { job: this.info(job, 'running'), signal: controller.signal, log: async (line) => void (await job.log(line.replace(/\n$/, ''))) };
      try {
        return await handler(context);
      } catch (error) {
        const reason = controller.signal.aborted ? String(controller.signal.reason) : undefined;
        if (reason === RETURNED) {
          // Back in the queue at once, without using an attempt.
          await job.moveToDelayed(Date.now(), token);
          throw new this.bull.DelayedError();
        }
        if (reason === KILLED) throw new this.bull.UnrecoverableError(KILLED);
        if (error instanceof UnrecoverableJobError) throw new this.bull.UnrecoverableError(error.message);
        throw error instanceof Error ? error : new Error(String(error));
      } finally {
        running.delete(job.id!);
        ended.push(job.id!);
      }
    };
    const worker: Worker = new this.bull.Worker(this.name, processor, {
      connection: this.connection(),
      prefix: this.prefix,
      concurrency: options.concurrency,
      lockDuration: stallMs,
      stalledInterval: Math.max(1000, Math.floor(stallMs / 2)),
      maxStalledCount: DEFAULT_ATTEMPTS,
      removeOnComplete: { count: 100_000 },
      removeOnFail: { count: 100_000 },
    });
    worker.on('error', () => {}); // connection errors while the broker restarts: BullMQ retries
    worker.on('completed', (job) => options.onSettled?.(this.info(job, 'done'), 'done'));
    worker.on('failed', (job) => {
      if (!job) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || job.failedReason === KILLED || job.finishedOn !== undefined;
      options.onSettled?.(this.info(job, final ? 'failed' : 'queued'), final ? 'failed' : 'retry');
    });
    let closing: Promise<void> | undefined;
    const close = (mode: 'finish' | 'return') => {
      if (mode === 'return') {
        returning = true;
        for (const controller of running.values()) if (!controller.signal.aborted) controller.abort(RETURNED);
      }
      closing ??= worker.close();
      return closing;
    };
    // Kill requests, and (untilEmpty) the end of the queue.
    const watch = (async () => {
      let idleSince: number | undefined;
      while (!closing) {
        await sleep(KILL_POLL_MS);
        const clearing = ended.splice(0);
        try {
          // One round trip a round however many jobs run or ended (not one per job and per job ended; none
          // while idle): the set is empty but for kills under way.
          if (running.size || clearing.length) {
            const [, killed] = await Promise.all([clearing.length ? this.meta.srem(this.killKey, ...clearing) : undefined, this.meta.smembers(this.killKey)]);
            for (const id of killed) {
              const controller = running.get(id);
              if (controller && !controller.signal.aborted) controller.abort(KILLED);
            }
          }
          if (options.untilEmpty) {
            const counts = await this.queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active');
            const empty = Object.values(counts).every((n) => n === 0) && running.size === 0;
            idleSince = empty ? (idleSince ?? Date.now()) : undefined;
            if (idleSince !== undefined && Date.now() - idleSince >= KILL_POLL_MS) void close('finish');
          }
        } catch {
          // the broker is away for a moment: try again next round
          ended.push(...clearing);
        }
      }
    })();
    return { stopped: watch.then(() => closing), close: async (mode) => void (await close(mode)) };
  }

  async waitFor(ids: readonly string[], onSettled: (job: Settled) => void): Promise<void> {
    const pending = new Set(ids);
    if (!pending.size) return;
    let failure: unknown;
    /** When the last PACE_ABOVE jobs ended. */
    const ends: number[] = [performance.now()];
    const settle = (job: Settled) => {
      if (!pending.delete(job.id)) return;
      if (ends.push(performance.now()) > PACE_ABOVE) ends.shift();
      try {
        onSettled(job);
      } catch (error) {
        failure ??= error;
      }
    };
    // The event stream from where it is now, read here rather than through BullMQ's QueueEvents (which
    // wakes for every event and makes an object of each): a job that ends after this is an event, a
    // completed one's with its result (nothing is read per job); those that ended before, the first poll
    // finds. While many jobs are pending the reads pause (see PACE_MS), each taking what came meanwhile:
    // every job adds an active and a completed event, and a grid's hundreds woke the reader hundreds of
    // times; near the end (the last results are what the caller waits for) each event is read at once.
    const stream = this.queue.keys.events!;
    const [newest] = await this.meta.xrevrange(stream, '+', '-', 'COUNT', 1);
    let last = newest?.[0] ?? '0-0';
    const reader = this.connection(); // a blocking read: a connection of its own
    try {
      let polled = -Infinity;
      // Events missed (the stream trimmed under a reader that fell behind, a broker restart) are found by
      // a poll every 5 s: three commands for every pending job at once.
      while (pending.size && failure === undefined) {
        if (performance.now() - polled >= WAIT_POLL_MS) {
          await this.poll(pending, settle);
          polled = performance.now();
          continue;
        }
        const read = await reader.xread('BLOCK', WAIT_POLL_MS, 'STREAMS', stream, last);
        for (const [id, fields] of read?.[0]?.[1] ?? []) {
          last = id;
          const field = (name: string) => {
            for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
            return undefined;
          };
          const jobId = field('jobId')!;
          if (!pending.has(jobId)) continue;
          const event = field('event');
          if (event === 'completed') settle({ id: jobId, state: 'done', result: JSON.parse(field('returnvalue') ?? 'null') as unknown });
          // A failed event is the last attempt's (a retried one is not failed): its record says why.
          else if (event === 'failed') settle(await this.failed(jobId));
        }
        if (pending.size > PACE_ABOVE && failure === undefined) {
          const perJob = (performance.now() - ends[0]!) / ends.length;
          await sleep(Math.min(PACE_MS, (pending.size * perJob) / 4));
        }
      }
      if (failure !== undefined) throw failure;
    } finally {
      this.connections.splice(this.connections.indexOf(reader), 1);
      reader.disconnect();
    }
  }

  /** Settles those of `pending` that have ended; throws if one is not in the queue any more. */
  private async poll(pending: ReadonlySet<string>, settle: (job: Settled) => void): Promise<void> {
    const ids = [...pending];
    const keys = ids.map((id) => this.queue.toKey(id));
    const [done, failed, present] = await Promise.all([
      this.meta.zmscore(this.queue.keys.completed!, ...ids),
      this.meta.zmscore(this.queue.keys.failed!, ...ids),
      this.meta.exists(...keys),
    ]);
    if (present < ids.length) {
      const each = await Promise.all(keys.map((key) => this.meta.exists(key)));
      throw new Error(`job '${ids[each.indexOf(0)]}' is no longer in the queue (removed?)`);
    }
    const results = await Promise.all(keys.map((key, i) => (done[i] === null ? undefined : this.meta.hget(key, 'returnvalue'))));
    for (const [i, id] of ids.entries()) {
      if (done[i] !== null) settle({ id, state: 'done', result: JSON.parse(results[i] ?? 'null') as unknown });
      else if (failed[i] !== null) settle(await this.failed(id));
    }
  }

  private async failed(id: string): Promise<Settled> {
    const job = await this.get(id);
    return { id, state: 'failed', attempts: job?.attempts ?? 0, ...(job?.error ? { error: job.error } : {}) };
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    for (const client of this.connections) client.disconnect();
  }

  /** Removes every key of this queue (tests, `queue clear --all`): BullMQ's obliterate. */
  async obliterate(): Promise<void> {
    await this.queue.obliterate({ force: true });
    await this.meta.del(this.killKey);
  }

  private info(job: Job, state: JobState): JobInfo {
    return {
      id: job.id!,
      name: job.name,
      data: job.data as unknown,
      state,
      attempts: job.attemptsStarted ?? job.attemptsMade,
      maxAttempts: job.opts.attempts ?? 1,
      created: job.timestamp,
      ...(job.processedOn ? { started: job.processedOn } : {}),
      ...(job.finishedOn ? { finished: job.finishedOn } : {}),
      ...(job.failedReason ? { error: job.failedReason } : {}),
      ...(state === 'done' ? { result: job.returnvalue as unknown } : {}),
    };
  }
}
