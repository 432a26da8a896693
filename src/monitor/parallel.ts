import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MlopsError, type ErrorKind } from '../core/errors.js';
import type { Table } from '../drift/read.js';
import type { PredictionReader } from '../predictions/reader.js';
import { driftWindows, type DriftQuery, type MonitorDriftOptions, type MonitorWindow } from './drift.js';
import { windowAt, windowCount, type Period } from './period.js';

// The windows of a drift check are independent: each worker thread reads its own run of consecutive
// windows through its own reader (SQLite and PostgreSQL both serve concurrent readers) and tests
// them. Reading and parsing the log is most of the work, so this divides the time by the cores;
// memory stays bounded, at one window per worker.

/** What a worker needs to open the prediction log on its own. */
export interface LogSource {
  readonly uri: string;
  readonly root: string;
}

export interface WorkerInput {
  readonly log: LogSource;
  readonly query: DriftQuery;
  readonly reference: Table;
  readonly period: Period;
  readonly options: MonitorDriftOptions;
}

export type WorkerOutput = { windows: MonitorWindow[] } | { error: { message: string; kind?: ErrorKind } };

const MAX_WORKERS = 4;

/**
 * Below this many rows in the period the windows are tested in this thread: starting workers (each
 * loading the code and opening the log) would cost more than the reading they share out.
 */
const PARALLEL_FROM_ROWS = 50_000;

/** The windows of `query`'s rows, read through `reader` when the period holds few rows, else by worker threads (a period with no rows is the caller's to refuse). */
export async function driftWindowsOf(reader: PredictionReader, log: LogSource, query: DriftQuery, reference: Table, period: Period, options: MonitorDriftOptions): Promise<MonitorWindow[]> {
  // Without the versions: an upper bound the (model, time) index answers alone, where the versions made SQLite read every row.
  const rows = await reader.count({ model: query.model, from: period.from, to: period.to });
  return rows < PARALLEL_FROM_ROWS ? driftWindows(reader, query, reference, period, options) : driftInParallel(log, query, reference, period, options);
}

export async function driftInParallel(log: LogSource, query: DriftQuery, reference: Table, period: Period, options: MonitorDriftOptions): Promise<MonitorWindow[]> {
  const total = windowCount(period);
  const n = Math.max(1, Math.min(availableParallelism(), MAX_WORKERS, total));
  const parts = Array.from({ length: n }, (_, k) => {
    const first = Math.floor((k * total) / n);
    const last = Math.floor(((k + 1) * total) / n) - 1;
    const part: Period = { from: windowAt(period, first).from, to: windowAt(period, last).to, window: period.window };
    return runWorker({ log, query, reference, period: part, options });
  });
  // Every worker finishes (or fails) before the first failure is reported: none is left running.
  const settled = await Promise.allSettled(parts);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.flatMap((s) => (s as PromiseFulfilledResult<MonitorWindow[]>).value);
}

function runWorker(input: WorkerInput): Promise<MonitorWindow[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./drift-worker.js', import.meta.url), { workerData: input });
    let answered = false;
    worker.once('message', (message: WorkerOutput) => {
      answered = true;
      if ('windows' in message) resolve(message.windows);
      else reject(message.error.kind ? new MlopsError(message.error.message, message.error.kind) : new Error(message.error.message));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => answered || reject(new Error(`drift worker exited with code ${code}`)));
  });
}
