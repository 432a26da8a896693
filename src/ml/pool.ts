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
 * Threads fitting one task at a time on a CV data set: one more is started when all are busy, up to
 * `max`; past it a task waits for a thread. A task may name another data set than the constructor's: the
 * thread it runs on is sent that one first, so the threads outlive a data set (a queue worker keeps them
 * from one search to the next instead of starting new ones for each).
 */
export class FoldThreads {
  private readonly idle: Worker[] = [];
  private readonly threads: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  /** The data set each thread holds. */
  private readonly holds = new Map<Worker, CvData>();

  constructor(
    private readonly cv?: CvData,
    private readonly max = Infinity,
  ) {}

  /** Starts threads up to `count` now (idle), so loading the fitting code is not on the first task's path. */
  prestart(count: number): void {
    while (this.threads.length < Math.min(count, this.max)) this.idle.push(this.start());
  }

  async run(task: FoldTask, cv = this.cv!): Promise<FoldResult> {
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
        this.forget(worker);
        this.waiting.shift()?.(this.start()); // a task waiting for this thread gets a new one
        reject(error);
      };
      const onError = (error: Error) => gone(error);
      const onExit = (code: number) => gone(new Error(`worker exited with code ${code}`));
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      if (this.holds.get(worker) !== cv) {
        worker.postMessage({ init: cv });
        this.holds.set(worker, cv);
      }
      worker.postMessage({ task });
    });
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((w) => w.terminate()));
  }

  private start(): Worker {
    const worker = new Worker(new URL('./worker.js', import.meta.url));
    this.threads.push(worker);
    // A thread that ends while idle (a prestarted one that failed to load) is dropped; while it fits,
    // run's own listeners report it to its task.
    worker.on('error', () => {});
    worker.once('exit', () => this.forget(worker));
    return worker;
  }

  private forget(worker: Worker): void {
    for (const list of [this.threads, this.idle]) if (list.includes(worker)) list.splice(list.indexOf(worker), 1);
    this.holds.delete(worker);
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
