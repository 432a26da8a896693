import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CvData, FoldResult, FoldTask } from './cv.js';

// Fold tasks on worker threads (default one per core). Each thread gets the data once and then one task
// at a time, so a slow task never holds up the others' queue, and the calling thread's event loop stays
// free meanwhile (a queue worker keeps renewing its job's lease during a long fit).

export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * Threads holding one CV data set, each fitting one task at a time: one more is started when all are
 * busy, up to `max`; past it a task waits for a thread.
 */
export class FoldThreads {
  private readonly idle: Worker[] = [];
  private readonly threads: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];

  constructor(
    private readonly cv: CvData,
    private readonly max = Infinity,
  ) {}

  async run(task: FoldTask): Promise<FoldResult> {
    const worker = this.idle.pop() ?? (this.threads.length < this.max ? this.start() : await new Promise<Worker>((resolve) => this.waiting.push(resolve)));
    const result = await new Promise<FoldResult>((resolve, reject) => {
      const done = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (message: { result?: FoldResult; error?: string }) => {
        done();
        this.release(worker);
        if (message.error !== undefined) reject(new Error(`worker failed: ${message.error}`));
        else resolve(message.result!);
      };
      const gone = (error: Error) => {
        done();
        this.threads.splice(this.threads.indexOf(worker), 1);
        this.waiting.shift()?.(this.start()); // a task waiting for this thread gets a new one
        reject(error);
      };
      const onError = (error: Error) => gone(error);
      const onExit = (code: number) => gone(new Error(`worker exited with code ${code}`));
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ task });
    });
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((w) => w.terminate()));
  }

  private start(): Worker {
    const worker = new Worker(new URL('./worker.js', import.meta.url));
    worker.postMessage({ init: this.cv });
    this.threads.push(worker);
    return worker;
  }

  private release(worker: Worker): void {
    const next = this.waiting.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }
}

export async function runFoldTasks(
  cv: CvData,
  tasks: readonly FoldTask[],
  workers: number,
  onResult: (result: FoldResult) => void,
): Promise<void> {
  const queue = [...tasks];
  const threads = new FoldThreads(cv);
  const count = Math.max(1, Math.min(workers, queue.length));
  try {
    await Promise.all(
      Array.from({ length: count }, async () => {
        for (let task = queue.shift(); task; task = queue.shift()) onResult(await threads.run(task));
      }),
    );
  } finally {
    await threads.close();
  }
}
