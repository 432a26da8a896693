import type { PredictionLog, PredictionRecord } from './record.js';

/** A database the batched log writes to: one transaction per batch. */
export interface PredictionSink {
  /** Writes the whole batch or none of it. */
  write(batch: readonly PredictionRecord[]): Promise<void>;
  /** Deletes rows older than `before`; answers how many. */
  prune(before: Date): Promise<number>;
  close(): Promise<void>;
}

export interface BatchOptions {
  /** How often pending rows are written, in ms. */
  readonly intervalMs?: number;
  /** Rows older than this many ms are deleted (at open, then hourly); undefined keeps every row. */
  readonly retentionMs?: number;
  /** How long `close` keeps retrying a batch the database refuses, in ms. */
  readonly closeTimeoutMs?: number;
}

const HOUR = 3600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Requests only push rows to a buffer; a timer writes the buffer as one transaction. A batch the
 * database refuses stays at the head of the buffer for the next attempt, so no row is lost or
 * reordered (the database layer already retried a lock another process held); the user hears of
 * a failure once per run of failures. One write at a time, so batches never interleave.
 */
export class BatchedPredictionLog implements PredictionLog {
  private pending: PredictionRecord[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private pruned = 0;
  private failing = false;

  constructor(
    private readonly sink: PredictionSink,
    /** Told when a batch cannot be written (it is kept and retried). */
    private readonly onError: (error: Error) => void,
    private readonly options: BatchOptions = {},
  ) {
    this.timer = setInterval(() => void this.flush(), options.intervalMs ?? 100);
    this.timer.unref();
  }

  get backlog(): number {
    return this.pending.length;
  }

  append(records: readonly PredictionRecord[]): void {
    for (const r of records) this.pending.push(r);
  }

  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.writeBatch());
    return this.writing;
  }

  private async writeBatch(): Promise<void> {
    await this.pruneWhenDue();
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.sink.write(batch);
      this.failing = false;
    } catch (error) {
      this.pending = batch.concat(this.pending);
      if (!this.failing) this.onError(error as Error);
      this.failing = true;
    }
  }

  private async pruneWhenDue(): Promise<void> {
    const { retentionMs } = this.options;
    if (retentionMs === undefined || Date.now() - this.pruned < HOUR) return;
    this.pruned = Date.now();
    try {
      await this.sink.prune(new Date(Date.now() - retentionMs));
    } catch (error) {
      this.onError(error as Error);
    }
  }

  /** Writes every pending row (retrying a busy database up to closeTimeoutMs), then closes. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const deadline = Date.now() + (this.options.closeTimeoutMs ?? 30_000);
    await this.flush();
    while (this.pending.length > 0 && Date.now() < deadline) {
      await sleep(20);
      await this.flush();
    }
    const lost = this.pending.length;
    await this.sink.close();
    if (lost > 0) throw new Error(`${lost} predicted rows could not be written to the prediction log`);
  }
}
