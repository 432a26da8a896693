import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomicSync } from '../core/atomic.js';
import { UsageError } from '../core/errors.js';
import { readLock, removeStaleLock, tryCreateLock } from '../core/file-lock.js';
import { currentProcess, processAlive, type ProcessRef } from '../core/process.js';
import {
  backoff, DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS, DEFAULT_STALL_MS, KILLED, RETURNED, UnrecoverableJobError,
  type ConsumeOptions, type Consumer, type JobHandler, type JobInfo, type JobQueue, type NewJob, type Settled,
} from './queue.js';

// The embedded queue: one JSON file per job under `.mlops/queue/<name>/jobs/`, its log beside it, every
// change made under a lock file (the repo lock's kind: owner pid and start time, a dead owner's lock
// taken over), each file written temp-and-rename. Leases name the consumer's process, so a killed
// `queue start` loses its jobs back to the queue at once, a hung one after `stallMs`.

const POLL_MS = 50;
const ID = /^(?!\d+$)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

interface Lease extends ProcessRef {
  readonly consumer: string;
}

interface StoredJob {
  id: string;
  name: string;
  data: unknown;
  state: JobInfo['state'];
  attempts: number;
  maxAttempts: number;
  backoffMs: number;
  created: number;
  started?: number;
  finished?: number;
  error?: string;
  result?: unknown;
  /** A retried job waits until then. */
  notBefore?: number;
  lease?: Lease;
  heartbeat?: number;
  kill?: boolean;
}

const info = (job: StoredJob): JobInfo => {
  const { backoffMs: _b, notBefore: _n, lease: _l, heartbeat: _h, kill: _k, ...shown } = job;
  return shown;
};

/** Eight hex digits, at least one a letter (BullMQ refuses ids that read as integers). */
export function newJobId(): string {
  for (;;) {
    const id = randomBytes(4).toString('hex');
    if (/[a-f]/.test(id)) return id;
  }
}

export class LocalQueue implements JobQueue {
  private readonly jobsDir: string;
  private readonly logsDir: string;

  constructor(readonly location: string) {
    this.jobsDir = join(location, 'jobs');
    this.logsDir = join(location, 'logs');
  }

  async add<T>(job: NewJob<T>): Promise<JobInfo<T>> {
    return (await this.addMany([job]))[0]!;
  }

  async addMany<T>(jobs: readonly NewJob<T>[]): Promise<JobInfo<T>[]> {
    return this.locked(() => {
      const stored = jobs.map((job): StoredJob => {
        const id = job.id ?? newJobId();
        if (!ID.test(id)) throw new UsageError(`job id '${id}': letters, digits and . _ - only, not a number`);
        if (this.read(id)) throw new UsageError(`job '${id}' is already in the queue`);
        return { id, name: job.name, data: job.data, state: 'queued', attempts: 0, maxAttempts: job.attempts ?? DEFAULT_ATTEMPTS, backoffMs: job.backoffMs ?? DEFAULT_BACKOFF_MS, created: Date.now() };
      });
      for (const job of stored) this.write(job);
      return stored.map((job) => info(job) as JobInfo<T>);
    });
  }

  async get(id: string): Promise<JobInfo | undefined> {
    const job = ID.test(id) ? this.read(id) : undefined;
    return job && info(job);
  }

  async list(): Promise<JobInfo[]> {
    return this.all().map(info);
  }

  async logs(id: string): Promise<string[]> {
    if (!ID.test(id)) return [];
    try {
      return readFileSync(join(this.logsDir, `${id}.log`), 'utf8').split('\n').slice(0, -1);
    } catch {
      return [];
    }
  }

  async remove(id: string): Promise<boolean> {
    return this.locked(() => {
      const job = ID.test(id) ? this.read(id) : undefined;
      if (!job) return false;
      if (job.state === 'running') throw new UsageError(`job '${id}' is running: use mlops queue kill`);
      this.delete(id);
      return true;
    });
  }

  async kill(id: string): Promise<void> {
    await this.locked(() => {
      const job = ID.test(id) ? this.read(id) : undefined;
      if (!job) return;
      if (job.state === 'queued') this.delete(id);
      else if (job.state === 'running') this.write({ ...job, kill: true });
    });
  }

  async clear(): Promise<number> {
    return this.locked(() => {
      const idle = this.all().filter((j) => j.state !== 'running');
      for (const job of idle) this.delete(job.id);
      return idle.length;
    });
  }

  consume(handler: JobHandler, options: ConsumeOptions): Consumer {
    const consumer = newJobId() + newJobId();
    const lease: Lease = { ...currentProcess(), consumer };
    const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
    const running = new Map<string, AbortController>();
    let closing: 'finish' | 'return' | undefined;
    const ours = (job: StoredJob | undefined): job is StoredJob => job?.state === 'running' && job.lease?.consumer === consumer;

    const settle = (id: string, outcome: { result?: unknown; error?: unknown }) =>
      this.locked(() => {
        const job = this.read(id);
        if (!ours(job)) return; // lost to a stall while it ran: the new owner settles it
        const controller = running.get(id)!;
        const reason = controller.signal.aborted ? String(controller.signal.reason) : undefined;
        let next: StoredJob;
        let kind: 'done' | 'failed' | 'retry' | 'returned';
        if (!('error' in outcome)) {
          next = { ...job, state: 'done', finished: Date.now(), result: outcome.result };
          kind = 'done';
        } else if (reason === RETURNED) {
          next = { ...job, state: 'queued', attempts: job.attempts - 1, notBefore: Date.now() };
          kind = 'returned';
        } else {
          const error = reason === KILLED ? KILLED : errorText(outcome.error);
          const final = reason === KILLED || outcome.error instanceof UnrecoverableJobError || job.attempts >= job.maxAttempts;
          next = final
            ? { ...job, state: 'failed', finished: Date.now(), error }
            : { ...job, state: 'queued', error, notBefore: Date.now() + backoff(job.backoffMs, job.attempts) };
          kind = final ? 'failed' : 'retry';
        }
        delete next.lease;
        delete next.heartbeat;
        delete next.kill;
        this.write(next);
        return { job: info(next), kind };
      });

    const start = (job: StoredJob) => {
      const controller = new AbortController();
      running.set(job.id, controller);
      const context = { job: info(job), signal: controller.signal, log: async (line: string) => this.appendLog(job.id, line) };
      void (async () => {
        let outcome: { result?: unknown; error?: unknown };
        try {
          outcome = { result: await handler(context) };
        } catch (error) {
          outcome = { error };
        }
        const settled = await settle(job.id, outcome).catch(() => undefined);
        running.delete(job.id);
        if (settled) options.onSettled?.(settled.job, settled.kind);
      })();
    };

    const claim = () =>
      this.locked(() => {
        const now = Date.now();
        const jobs = this.all();
        for (const job of jobs) if (job.state === 'running' && this.stalled(job, now, stallMs)) this.write(this.requeueStalled(job, now));
        const next = this.all()
          .filter((j) => j.state === 'queued' && (j.notBefore ?? 0) <= now)
          .sort((a, b) => a.created - b.created)[0];
        if (!next) return { job: undefined, busy: jobs.some((j) => j.state === 'queued' || j.state === 'running') };
        const claimed: StoredJob = { ...next, state: 'running', attempts: next.attempts + 1, started: now, lease, heartbeat: now };
        delete claimed.notBefore;
        this.write(claimed);
        return { job: claimed, busy: true };
      });

    // Renews the leases of the running jobs and aborts those killed meanwhile.
    const heartbeat = () =>
      this.locked(() => {
        for (const [id, controller] of running) {
          const job = this.read(id);
          if (!ours(job)) continue;
          if (job.kill && !controller.signal.aborted) controller.abort(KILLED);
          this.write({ ...job, heartbeat: Date.now() });
        }
      });

    const stopped = (async () => {
      let lastBeat = 0;
      while (!closing || running.size > 0) {
        if (Date.now() - lastBeat >= Math.min(stallMs / 3, 1000)) {
          await heartbeat();
          lastBeat = Date.now();
        }
        if (!closing && running.size < options.concurrency) {
          const { job, busy } = await claim();
          if (job) {
            start(job);
            continue;
          }
          if (options.untilEmpty && !busy && running.size === 0) break;
        }
        await sleep(POLL_MS);
      }
    })();

    return {
      stopped,
      close: async (mode) => {
        closing ??= mode;
        if (mode === 'return') for (const controller of running.values()) if (!controller.signal.aborted) controller.abort(RETURNED);
        await stopped;
      },
    };
  }

  async waitFor(ids: readonly string[], onSettled: (job: Settled) => void): Promise<void> {
    const pending = new Set(ids);
    while (pending.size) {
      for (const id of pending) {
        const job = this.read(id);
        if (!job) throw new Error(`job '${id}' is no longer in the queue (removed?)`);
        if (job.state === 'done' || job.state === 'failed') {
          pending.delete(id);
          onSettled(job.state === 'done' ? { id, state: 'done', result: job.result } : { id, state: 'failed', error: job.error, attempts: job.attempts });
        }
      }
      if (pending.size) await sleep(POLL_MS);
    }
  }

  async close(): Promise<void> {}

  private stalled(job: StoredJob, now: number, stallMs: number): boolean {
    if (!job.lease) return true;
    return processAlive(job.lease) === false || now - (job.heartbeat ?? 0) > stallMs;
  }

  private requeueStalled(job: StoredJob, now: number): StoredJob {
    const error = `its worker (pid ${job.lease?.pid ?? '?'}) stopped during attempt ${job.attempts}`;
    const next: StoredJob = job.attempts >= job.maxAttempts ? { ...job, state: 'failed', finished: now, error } : { ...job, state: 'queued', error, notBefore: now };
    delete next.lease;
    delete next.heartbeat;
    return next;
  }

  private appendLog(id: string, line: string): void {
    mkdirSync(this.logsDir, { recursive: true });
    appendFileSync(join(this.logsDir, `${id}.log`), line.endsWith('\n') ? line : `${line}\n`);
  }

  private read(id: string): StoredJob | undefined {
    try {
      return JSON.parse(readFileSync(join(this.jobsDir, `${id}.json`), 'utf8')) as StoredJob;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  private all(): StoredJob[] {
    let names: string[];
    try {
      names = readdirSync(this.jobsDir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    return names
      .map((n) => this.read(n.slice(0, -'.json'.length)))
      .filter((j): j is StoredJob => j !== undefined)
      .sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
  }

  private write(job: StoredJob): void {
    mkdirSync(this.jobsDir, { recursive: true });
    writeFileAtomicSync(join(this.jobsDir, `${job.id}.json`), JSON.stringify(job));
  }

  private delete(id: string): void {
    rmSync(join(this.jobsDir, `${id}.json`), { force: true });
    rmSync(join(this.logsDir, `${id}.log`), { force: true });
  }

  /** Runs `fn` holding the queue's lock (taken over from a dead owner). */
  private async locked<T>(fn: () => T): Promise<T> {
    mkdirSync(this.location, { recursive: true });
    const file = join(this.location, 'queue.lock');
    const content = JSON.stringify(currentProcess());
    for (;;) {
      if (tryCreateLock(file, content)) break;
      const text = readLock(file);
      if (text !== undefined && ownerDead(text)) removeStaleLock(file, text);
      else await sleep(2);
    }
    try {
      return fn();
    } finally {
      rmSync(file, { force: true });
    }
  }
}

function ownerDead(text: string): boolean {
  try {
    return processAlive(JSON.parse(text) as ProcessRef) === false;
  } catch {
    return true;
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
