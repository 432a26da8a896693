import { parentPort, workerData } from 'node:worker_threads';
import { MlopsError } from '../core/errors.js';
import { predictionBackend } from '../predictions/open.js';
import { driftWindows } from './drift.js';
import type { WorkerInput, WorkerOutput } from './parallel.js';

// One worker of a parallel drift check (parallel.ts): its windows, from its own reader.

const input = workerData as WorkerInput;
const reader = await predictionBackend(input.log.uri, input.log.root).reader();
let output: WorkerOutput;
try {
  output = { windows: await driftWindows(reader, input.query, input.reference, input.period, input.options) };
} catch (error) {
  const e = error as Error;
  output = { error: { message: e.message, kind: error instanceof MlopsError ? error.kind : undefined } };
} finally {
  await reader.close();
}
parentPort!.postMessage(output!);
