import { AsyncLocalStorage } from 'node:async_hooks';

// The registry's `exclusive`: one section at a time, in this process (a queue) and across processes
// (a lock the store provides: a lock file, a database lock). A section may nest: promote holds it and
// calls setAlias, which must not wait for itself.

export interface HeldLock {
  release(): void | Promise<void>;
}

export class ExclusiveSections {
  private readonly holding = new AsyncLocalStorage<true>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly acquire: () => Promise<HeldLock>) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.holding.getStore()) return fn();
    const section = async () => {
      const lock = await this.acquire();
      try {
        return await this.holding.run(true, fn);
      } finally {
        await lock.release();
      }
    };
    const result = this.queue.then(section, section);
    this.queue = result.catch(() => {});
    return result;
  }
}
