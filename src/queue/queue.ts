// The job queue experiments and grid-search folds go through: an embedded one under `.mlops/queue/`
// (one machine, no server) and BullMQ on Redis (workers anywhere). Both pass test/queue-contract.ts.
//
// A job is queued, then running under one consumer's lease; a consumer that stops renewing its lease
// (killed, machine gone) loses the job back to the queue after `stallMs`. A handler that throws uses
// one attempt; the job is retried with exponential backoff until its attempts are spent, then FAILED,
// its log kept. An UnrecoverableJobError or a kill fails it at once.

export type JobState = 'queued' | 'running' | 'done' | 'failed';

export interface JobInfo<T = unknown> {
  readonly id: string;
  /** What kind of job: `experiment`, `fold`. */
  readonly name: string;
  readonly data: T;
  readonly state: JobState;
  /** Attempts started so far (a stalled attempt counts). */
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly created: number;
  readonly started?: number;
  readonly finished?: number;
  /** Why the last attempt failed. */
  readonly error?: string;
  readonly result?: unknown;
}

/**
 * How a job ended, as waitFor reports it: its result, or why it FAILED and after how many attempts.
 * Not the whole record (get has that): on the broker a result arrives with the event that says it ended.
 */
export type Settled =
  | { readonly id: string; readonly state: 'done'; readonly result: unknown }
  | { readonly id: string; readonly state: 'failed'; readonly error?: string; readonly attempts: number };

export interface AddOptions {
  /** The job's id (unique in the queue); random when absent. */
  readonly id?: string;
  /** Attempts before the job is FAILED (default 3). */
  readonly attempts?: number;
  /** First retry delay, doubled each retry (default 1000 ms). */
  readonly backoffMs?: number;
}

export interface NewJob<T = unknown> extends AddOptions {
  readonly name: string;
  readonly data: T;
}

export interface JobContext<T = unknown> {
  readonly job: JobInfo<T>;
  /** Appends one line to the job's log (kept after it ends, for `queue logs`). */
  log(line: string): Promise<void>;
  /** Aborted when the job is killed (`queue kill`) or its consumer returns it (a second Ctrl-C). */
  readonly signal: AbortSignal;
}

export type JobHandler<T = unknown> = (context: JobContext<T>) => Promise<unknown>;

export interface ConsumeOptions {
  /** Jobs run at once by this consumer. */
  readonly concurrency: number;
  /** A running job whose lease is not renewed for this long goes back to the queue (default 30 s). */
  readonly stallMs?: number;
  /** Stop once no job is queued or running (`queue start`); otherwise run until closed. */
  readonly untilEmpty?: boolean;
  /** A job ended (done or failed, for good or to be retried). */
  readonly onSettled?: (job: JobInfo, outcome: 'done' | 'failed' | 'retry' | 'returned') => void;
}

export interface Consumer {
  /** Resolves when the consumer has stopped (closed, or the queue emptied with untilEmpty). */
  readonly stopped: Promise<void>;
  /** Stops taking jobs; `finish` lets running jobs end, `return` aborts them and puts them back queued. */
  close(mode: 'finish' | 'return'): Promise<void>;
}

export interface JobQueue {
  /** Where the queue lives, for messages: a folder or a redis:// URL. */
  readonly location: string;
  add<T>(job: NewJob<T>): Promise<JobInfo<T>>;
  /** Several jobs in one round trip where the backend allows (a grid's folds). */
  addMany<T>(jobs: readonly NewJob<T>[]): Promise<JobInfo<T>[]>;
  get(id: string): Promise<JobInfo | undefined>;
  /** Every job the queue holds, oldest first. */
  list(): Promise<JobInfo[]>;
  logs(id: string): Promise<string[]>;
  /** Removes a job that is not running; false when there is none. */
  remove(id: string): Promise<boolean>;
  /** Fails a running job at once (its handler's signal aborts); a queued one is removed. */
  kill(id: string): Promise<void>;
  /** Removes every job that is not running; returns how many. */
  clear(): Promise<number>;
  consume(handler: JobHandler, options: ConsumeOptions): Consumer;
  /** Calls `onSettled` once for each of `ids` as it is done or FAILED for good; resolves when all have. */
  waitFor(ids: readonly string[], onSettled: (job: Settled) => void): Promise<void>;
  close(): Promise<void>;
}

/** Thrown by a handler for a job that cannot succeed on retry (a commit that no longer exists): FAILED at once. */
export class UnrecoverableJobError extends Error {}

/** The reason a killed job's handler sees (and its record gives). */
export const KILLED = 'killed by mlops queue kill';
/** The reason a returned job's handler sees. */
export const RETURNED = 'returned to the queue by its worker';

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 1000;
export const DEFAULT_STALL_MS = 30_000;

/** The delay before retry `attempt` (1-based count of attempts made). */
export const backoff = (first: number, attempt: number) => first * 2 ** Math.max(0, attempt - 1);
