import { Worker } from 'node:worker_threads';

/** What the main thread tells the hashing thread (md5-worker.ts) about file `id`. */
export type ToHasher = { id: number; path: string; size: number; direct: boolean } | { id: number; frontier: number } | { id: number; cancel: true };
type FromHasher = { id: number; digest: string } | { id: number; error: string };

/** One file being hashed behind its writer. */
export interface HashedFile {
  /** Every byte before `frontier` is written: hash up to there. */
  advance(frontier: number): void;
  /** The md5 (hex) of the file's `size` bytes, once the frontier has reached its end. */
  readonly digest: Promise<string>;
  /** Stops hashing (the download failed); `digest` is left unsettled. */
  cancel(): void;
}

/**
 * One worker thread that hashes (md5) files while they are being written, for downloads in parts: the
 * thread receiving from the network never hashes, so on two cores receiving and hashing run side by
 * side. Started on the first file, shared by every file of a transfer, and holding the process open
 * only while some file is being hashed.
 */
export class Md5Thread {
  private worker?: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (digest: string) => void; reject: (error: Error) => void }>();

  /** Starts hashing the file at `path`, `size` bytes long once written; `direct`: read it around the page cache, as it is written. */
  hash(path: string, size: number, direct: boolean): HashedFile {
    const worker = this.start();
    const id = this.nextId++;
    const digest = new Promise<string>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // A failure while the download is still running is awaited only once it ends: not an unhandled rejection meanwhile.
    digest.catch(() => {});
    if (this.pending.size === 1) worker.ref();
    worker.postMessage({ id, path, size, direct } satisfies ToHasher);
    return {
      advance: (frontier) => worker.postMessage({ id, frontier } satisfies ToHasher),
      digest,
      cancel: () => {
        if (this.settle(id)) worker.postMessage({ id, cancel: true } satisfies ToHasher);
      },
    };
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./md5-worker.js', import.meta.url));
    worker.on('message', (m: FromHasher) => {
      const waiter = this.pending.get(m.id);
      if (!this.settle(m.id) || !waiter) return;
      if ('digest' in m) waiter.resolve(m.digest);
      else waiter.reject(new Error(m.error));
    });
    // The thread died (it should not): every file it was hashing fails, and the next one starts another.
    worker.on('error', (error) => {
      this.worker = undefined;
      for (const [id, waiter] of this.pending) {
        this.settle(id);
        waiter.reject(error);
      }
    });
    this.worker = worker;
    return worker;
  }

  /** Forgets file `id`; false when it was already settled. Lets the process exit once nothing is being hashed. */
  private settle(id: number): boolean {
    if (!this.pending.delete(id)) return false;
    if (this.pending.size === 0) this.worker?.unref();
    return true;
  }
}
