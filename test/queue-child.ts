// A consumer in a process of its own, for the tests that kill one: opens the queue described by
// argv[2] (JSON), takes jobs, prints `started <id>` and then hangs until killed.
import { LocalQueue } from '../src/queue/local.js';
import type { JobQueue } from '../src/queue/queue.js';

const spec = JSON.parse(process.argv[2]!) as { dir?: string; url?: string; prefix?: string; name?: string; stallMs: number };
let queue: JobQueue;
if (spec.dir) queue = new LocalQueue(spec.dir);
else {
  const { BullQueue } = await import('../src/queue/bullmq.js');
  queue = await BullQueue.open(spec.url!, spec.prefix!, spec.name!);
}
queue.consume(
  async ({ job }) => {
    process.stdout.write(`started ${job.id}\n`);
    await new Promise(() => {});
  },
  { concurrency: 1, stallMs: spec.stallMs },
);
