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
