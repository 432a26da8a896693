import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { UsageError } from '../core/errors.js';
import { errorText, newJobId } from './local.js';
import {
  DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS, DEFAULT_STALL_MS, KILLED, RETURNED, UnrecoverableJobError,
  type ConsumeOptions, type Consumer, type JobContext, type JobInfo, type JobHandler, type JobQueue, type JobState, type NewJob,
} from './queue.js';

// The queue on BullMQ (Redis, through ioredis): workers on any machine that reaches the broker. BullMQ gives the lease
// (a job lock renewed while the handler runs; a job whose lock lapses is "stalled" and moved back to
// wait by any live worker), retries with exponential backoff, and per-job logs. What it has no word for
// is kept beside its keys: the kill requests (`<prefix>:<queue>:mlops:kill`, a set the workers poll).

type BullMQ = typeof import('bullmq');
type RedisClass = typeof import('ioredis').Redis;

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

/** Deletes every key under `prefix` (every queue of a project's prefix): for tests and benches that made one up. */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
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
  private events: QueueEvents | undefined;
  /** A connection of our own for the kill set. */
  private readonly meta: Redis;

  private constructor(
    private readonly bull: BullMQ,
    private readonly Redis: RedisClass,
    readonly location: string,
    private readonly prefix: string,
    private readonly name: string,
  ) {
    this.queue = new bull.Queue(name, { connection: this.connection(), prefix });
    this.meta = this.connection();
  }

  /** Opens queue `name` under `prefix` (BullMQ's key prefix) on the broker at `url`. */
  static async open(url: string, prefix: string, name: string): Promise<BullQueue> {
    const [bull, { Redis }] = await Promise.all([import('bullmq'), import('ioredis')]);
    await checkBroker(Redis, url);
    return new BullQueue(bull, Redis, url, prefix, name);
  }

  /** A connection that reconnects on its own (a broker restart); BullMQ's blocking reads need maxRetriesPerRequest null. */
  private connection(): Redis {
    const client = new this.Redis(this.location, { maxRetriesPerRequest: null });
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
    // One round trip for the lot (commands sent together are pipelined), not one per job: a grid's folds are hundreds.
    const states = await Promise.all(jobs.map((job) => (job.id === undefined ? 'unknown' : this.queue.getJobState(job.id))));
    const taken = jobs.find((_, i) => states[i] !== 'unknown');
    if (taken) throw new UsageError(`job '${taken.id}' is already in the queue`);
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
    const job = ID.test(id) ? await this.queue.getJob(id) : undefined;
    if (!job) return false;
    if ((await job.getState()) === 'active') throw new UsageError(`job '${id}' is running: use mlops queue kill`);
    await job.remove();
    return true;
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
    let returning = false;
    const processor = async (job: Job, token?: string, signal?: AbortSignal) => {
      const controller = new AbortController();
      signal?.addEventListener('abort', () => controller.abort(RETURNED), { once: true });
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
        // Not awaited: the next job need not wait for this round trip (the kill set is on a connection of its own).
        void this.meta.srem(this.killKey, job.id!).catch(() => undefined);
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
        try {
          for (const [id, controller] of running) {
            if (!controller.signal.aborted && (await this.meta.sismember(this.killKey, id)) === 1) controller.abort(KILLED);
          }
          if (options.untilEmpty) {
            const counts = await this.queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active');
            const empty = Object.values(counts).every((n) => n === 0) && running.size === 0;
            idleSince = empty ? (idleSince ?? Date.now()) : undefined;
            if (idleSince !== undefined && Date.now() - idleSince >= KILL_POLL_MS) void close('finish');
          }
        } catch {
          // the broker is away for a moment: try again next round
        }
      }
    })();
    return { stopped: watch.then(() => closing), close: async (mode) => void (await close(mode)) };
  }

  async waitFor(ids: readonly string[], onSettled: (job: JobInfo) => void): Promise<void> {
    const pending = new Set(ids);
    if (!pending.size) return;
    if (!this.events) {
      this.events = new this.bull.QueueEvents(this.name, { connection: this.connection(), prefix: this.prefix });
      this.events.on('error', () => {});
    }
    let wake: () => void = () => {};
    const check = async (id: string) => {
      if (!pending.has(id)) return;
      const job = await this.get(id);
      if (!job) {
        pending.delete(id);
        throw new Error(`job '${id}' is no longer in the queue (removed?)`);
      }
      if (job.state === 'done' || job.state === 'failed') {
        if (!pending.delete(id)) return;
        onSettled(job);
        if (!pending.size) wake();
      }
    };
    let failure: unknown;
    const onEvent = ({ jobId }: { jobId: string }) => void check(jobId).catch((error: unknown) => ((failure = error), wake()));
    this.events.on('completed', onEvent);
    this.events.on('failed', onEvent);
    try {
      await this.events.waitUntilReady();
      // Events are missed while QueueEvents connects, and while the broker restarts: poll as well, every
      // pending job at once (their commands pipelined: two round trips, not two per job one after another,
      // which for a grid's hundreds of folds kept this process and the broker busy beside the workers).
      while (pending.size && failure === undefined) {
        await Promise.all([...pending].map(check));
        if (!pending.size) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, WAIT_POLL_MS).unref();
        });
      }
      if (failure !== undefined) throw failure;
    } finally {
      this.events.off('completed', onEvent);
      this.events.off('failed', onEvent);
    }
  }

  async close(): Promise<void> {
    await this.events?.close().catch(() => undefined);
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
