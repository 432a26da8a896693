import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CvData, FoldResult, FoldTask } from './cv.js';

// Spreads fold tasks over worker threads (default one per core). Each worker gets the data once and
// then one task at a time, so a slow task never holds up the others' queue.

export function defaultWorkers(): number {
  return availableParallelism();
}

export async function runFoldTasks(
  cv: CvData,
  tasks: readonly FoldTask[],
  workers: number,
  onResult: (result: FoldResult) => void,
): Promise<void> {
  const queue = [...tasks];
  const count = Math.max(1, Math.min(workers, queue.length));
  const threads = Array.from({ length: count }, () => new Worker(new URL('./worker.js', import.meta.url)));
  try {
    await Promise.all(
      threads.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const next = () => {
              const task = queue.shift();
              if (task) worker.postMessage({ task });
              else resolve();
            };
            worker.on('message', (message: { result?: FoldResult; error?: string }) => {
              if (message.error !== undefined) return reject(new Error(`worker failed: ${message.error}`));
              onResult(message.result!);
              next();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => code !== 0 && reject(new Error(`worker exited with code ${code}`)));
            worker.postMessage({ init: cv });
            next();
          }),
      ),
    );
  } finally {
    await Promise.all(threads.map((w) => w.terminate()));
  }
}
