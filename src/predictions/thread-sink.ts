import { Worker } from 'node:worker_threads';
import { MlopsError, type ErrorKind } from '../core/errors.js';
import type { PredictionSink } from './batched.js';
import type { PredictionRecord } from './record.js';

// A server's prediction log is written by a worker thread of its own: better-sqlite3 is synchronous,
// so a batch's INSERTs, its COMMIT and the WAL checkpoints (an fsync now and then) would otherwise
// stop every request for as long as they take. The server's thread only hands each batch over (one
// message per batch, not per request); the thread opens the same sink and answers one call at a time.

/** The backend the thread opens: the arguments of predictionBackend. */
export interface SinkSource {
  readonly uri: string;
  readonly root: string;
}

type SinkOp = { op: 'write'; batch: readonly PredictionRecord[] } | { op: 'prune'; before: number } | { op: 'close' };
export type SinkCall = SinkOp & { id: number };
/** An error crosses as its message and, for ours, its kind (so a bad setting still exits 2). */
export interface SinkError {
  readonly message: string;
  readonly kind?: ErrorKind;
}
/** The answer to call `id`; id -1 says the sink is open (or why not). */
export interface SinkReply {
  readonly id: number;
  readonly value?: number;
  readonly error?: SinkError;
}

const revive = (e: SinkError) => (e.kind ? new MlopsError(e.message, e.kind) : new Error(e.message));

/** Opens the sink at `source` in a new thread; rejects as opening it here would. */
export async function openThreadSink(source: SinkSource): Promise<PredictionSink> {
  const worker = new Worker(new URL('./sink-worker.js', import.meta.url), { workerData: source });
  const waiting = new Map<number, { resolve(value: number): void; reject(error: Error): void }>();
  let next = 0;
  let stopped: Error | undefined;
  const opened = new Promise<void>((resolve, reject) => waiting.set(-1, { resolve: () => resolve(), reject }));
  const fail = (error: Error) => {
    stopped ??= error;
    for (const w of waiting.values()) w.reject(stopped);
    waiting.clear();
  };
  worker.on('message', (reply: SinkReply) => {
    const w = waiting.get(reply.id);
    waiting.delete(reply.id);
    // An idle thread must not keep the process alive; one with a call to answer must.
    if (waiting.size === 0) worker.unref();
    if (reply.error) w?.reject(revive(reply.error));
    else w?.resolve(reply.value ?? 0);
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the prediction log thread stopped (exit code ${code})`)));
  const call = (message: SinkOp) =>
    new Promise<number>((resolve, reject) => {
      if (stopped) return reject(stopped);
      const id = next++;
      waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...message, id });
    });
  try {
    await opened;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return {
    write: async (batch) => void (await call({ op: 'write', batch })),
    prune: (before) => call({ op: 'prune', before: before.getTime() }),
    close: async () => {
      try {
        await call({ op: 'close' });
      } finally {
        await worker.terminate();
      }
    },
  };
}
