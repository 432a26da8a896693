/**
 * Runs `task` on every item, at most `jobs` at once, in order of the items. The first error stops new
 * tasks from starting; it is thrown once the running ones have settled (none is left behind).
 */
export async function pool<T>(items: readonly T[], jobs: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  if (failure) throw failure.error;
}

/**
 * At most `slots` callers of `run` at once; the others wait their turn, first come first served. For a
 * costly kind of task inside a wider pool (multipart uploads, each holding parts in memory).
 */
export class Limit {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly slots: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.slots) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so `active` never drops below what is running.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
