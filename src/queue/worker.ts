import { UsageError } from '../core/errors.js';
import type { Project } from '../project/project.js';
import { EXPERIMENT_JOB, ForeignRepositoryError, foreignExperiment, inGitRepository, runQueuedExperiment, type Launcher, type QueuedExperiment } from './experiments.js';
import { FOLD_PREFETCH, foldHandler } from './folds.js';
import { openQueue, queueSettings } from './open.js';
import type { Consumer, JobContext, JobInfo, JobQueue } from './queue.js';

// A worker: consumers of the experiments queue and (for `queue worker`) of the grid folds queue, in one
// process. Folds have a consumer of their own so a worker running an experiment whose train stage fans
// out still takes that search's folds.

export interface WorkerOptions {
  /** Jobs of each queue run at once. */
  readonly concurrency: number;
  /** Stop once the queues are empty (`queue start`); otherwise run until closed (`queue worker`). */
  readonly untilEmpty: boolean;
  /** Take grid-search folds too. */
  readonly folds: boolean;
  readonly launcher: Launcher;
  /** One line per experiment started or ended, and per fold job that failed. */
  readonly onEvent: (line: string) => void;
}

export interface RunningWorker {
  /** Resolves when every consumer has stopped; `foreign` says why, when an experiment of another repository stopped it. */
  readonly stopped: Promise<{ foreign?: string }>;
  close(mode: 'finish' | 'return'): Promise<void>;
}

const describe = (job: JobInfo) => (job.name === EXPERIMENT_JOB ? `experiment ${(job.data as QueuedExperiment).name} (${job.id})` : `grid job ${job.id}`);

export async function startWorker(project: Project, options: WorkerOptions): Promise<RunningWorker> {
  const { stallMs } = queueSettings(project);
  const queues: JobQueue[] = [];
  const consumers: Consumer[] = [];
  const closeAll = (mode: 'finish' | 'return') => Promise.all(consumers.map((c) => c.close(mode))).then(() => undefined);
  let foreignStop: string | undefined;
  const settled = (job: JobInfo, outcome: 'done' | 'failed' | 'retry' | 'returned') => {
    if (job.name !== EXPERIMENT_JOB && outcome === 'done') return;
    const what = { done: `done${(job.result as { run_id?: string } | undefined)?.run_id ? `, recorded as run ${(job.result as { run_id: string }).run_id}` : ''}`, failed: `FAILED: ${job.error}`, retry: `failed (${job.error}), will be retried`, returned: 'returned to the queue' }[outcome];
    options.onEvent(`${describe(job)}: ${what}`);
  };
  // Outside a git repository there is no commit to run an experiment at: such a worker takes folds only.
  const git = options.folds ? await inGitRepository(project) : true;
  if (git) {
    const experiments = await openQueue(project, 'experiments');
    queues.push(experiments);
    const foreign = await foreignExperiment(project, experiments).catch(async (error: unknown) => {
      await experiments.close();
      throw error;
    });
    if (foreign) {
      await experiments.close();
      throw new UsageError(`the queue at ${experiments.location} holds experiments of ${foreign.theirs}; this repository's origin is ${foreign.ours}`);
    }
    consumers.push(
    experiments.consume(
      async (context) => {
        options.onEvent(`${describe(context.job)}: started (attempt ${context.job.attempts})`);
        try {
          return await runQueuedExperiment(project, context as JobContext<QueuedExperiment>, options.launcher);
        } catch (error) {
          if (error instanceof ForeignRepositoryError) {
            foreignStop = error.message;
            void closeAll('return'); // gives this job back: another worker of the right repository takes it
          }
          throw error;
        }
      },
      { concurrency: options.concurrency, untilEmpty: options.untilEmpty, stallMs, onSettled: settled },
    ),
    );
  } else {
    options.onEvent(`${project.root} is not in a git repository: taking grid folds only, no experiments`);
  }
  const fits = options.folds ? foldHandler(project, options.concurrency) : undefined;
  if (fits) {
    const folds = await openQueue(project, 'folds');
    queues.push(folds);
    consumers.push(folds.consume(fits.handler, { concurrency: options.concurrency + FOLD_PREFETCH, untilEmpty: options.untilEmpty, stallMs, onSettled: settled }));
  }
  const stopped = Promise.all(consumers.map((c) => c.stopped)).then(async () => {
    await fits?.close();
    for (const queue of queues) await queue.close();
    return foreignStop === undefined ? {} : { foreign: foreignStop };
  });
  return { stopped, close: closeAll };
}
