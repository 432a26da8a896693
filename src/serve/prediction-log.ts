import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One predicted row as the log keeps it: the raw input (monitoring compares raw data), not features. */
export interface PredictionRecord {
  readonly request_id: string;
  readonly time: string;
  readonly model: { readonly name: string; readonly version?: number };
  readonly input: Record<string, string | number | null>;
  readonly prediction: string;
  readonly probabilities: Record<string, number>;
  readonly latency_ms: number;
}

/** Where predictions go. Written off the request path; `close` writes what is pending. */
export interface PredictionLog {
  append(records: readonly PredictionRecord[]): void;
  /** Rows accepted but not yet written. */
  readonly backlog: number;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * JSON lines appended to one file, in batches: requests only push to a buffer, a timer writes it.
 * Appending (not temp-and-rename) is right for a log: a crash can lose at most the unwritten batch,
 * never rows already written. One writer at a time, so batches never interleave.
 */
export class JsonLinesPredictionLog implements PredictionLog {
  private pending: PredictionRecord[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly path: string,
    /** Told when a batch cannot be written; the batch is kept for the next attempt. */
    private readonly onError: (error: Error) => void,
    intervalMs = 200,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  get backlog(): number {
    return this.pending.length;
  }

  append(records: readonly PredictionRecord[]): void {
    this.pending.push(...records);
  }

  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.pending.length === 0) return;
      const batch = this.pending;
      this.pending = [];
      try {
        await mkdir(dirname(this.path), { recursive: true });
        await appendFile(this.path, batch.map((r) => JSON.stringify(r)).join('\n') + '\n');
      } catch (error) {
        this.pending = batch.concat(this.pending);
        this.onError(error as Error);
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
