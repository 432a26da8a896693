import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { JobInfo, JobQueue } from '../../queue/queue.js';
import type { QueuedExperiment } from '../../queue/experiments.js';
import type { Project } from '../../project/project.js';
import { jsonOption } from '../options.js';
import { openProject } from '../project.js';
import { printJsonLazy } from './repro.js';

// `mlops queue`: the experiments `exp run --queue` recorded, and the workers that run them (DVC's
// `dvc queue` commands, plus `queue worker` for other machines).

const count = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} expects a whole number >= 1, got '${value}'`);
  return n;
};

const STATE_WORDS: Record<JobInfo['state'], string> = { queued: 'Queued', running: 'Running', done: 'Success', failed: 'Failed' };
const stamp = (ms: number | undefined) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '-');

async function withQueue<T>(fn: (queue: JobQueue, project: Project) => Promise<T>): Promise<T> {
  const project = await openProject();
  const { openQueue } = await import('../../queue/open.js');
  const queue = await openQueue(project, 'experiments');
  try {
    return await fn(queue, project);
  } finally {
    await queue.close();
  }
}

/** The jobs `refs` name, every one found before `fn` runs (one unknown name: nothing done). */
async function withJobs<T>(refs: readonly string[], fn: (queue: JobQueue, jobs: JobInfo<QueuedExperiment>[]) => Promise<T>): Promise<T> {
  const { findJob } = await import('../../queue/experiments.js');
  return withQueue(async (q) => fn(q, await Promise.all(refs.map((ref) => findJob(q, ref)))));
}

export function register(program: Command): void {
  const queue = program.command('queue').description('experiments queued with exp run --queue, and the workers that run them');

  queue
    .command('status')
    .description('the queued, running, failed and finished experiments of the queue')
    .addOption(jsonOption())
    .action(async (opts: { json?: boolean }) => {
      const jobs = (await withQueue((q) => q.list())) as JobInfo<QueuedExperiment>[];
      if (opts.json) return printJsonLazy(jobs);
      const { textTable } = await import('../table.js');
      const rows = jobs.map((j) => [
        j.id, j.data.name, STATE_WORDS[j.state], `${j.attempts}/${j.maxAttempts}`, stamp(j.created), j.data.commit.slice(0, 7), j.data.overrides.join(' ') || '-',
        j.state === 'done' ? `run ${(j.result as { run_id: string }).run_id}` : (j.error ?? ''),
      ]);
      if (!rows.length) return void process.stdout.write('no experiments in the queue\n');
      process.stdout.write(textTable(['ID', 'Experiment', 'State', 'Attempts', 'Queued', 'Commit', 'Overrides', 'Result'], rows));
    });

  queue
    .command('logs')
    .description("a queued experiment's output (every attempt), as its worker ran it")
    .argument('<id>', 'job id (or a unique prefix) or experiment name')
    .action(async (ref: string) => {
      const lines = await withJobs([ref], async (q, [job]) => q.logs(job!.id));
      for (const line of lines) process.stdout.write(`${line}\n`);
    });

  const refs = '<ids...>';
  const refsHelp = 'job ids (or unique prefixes) or experiment names';
  queue
    .command('remove')
    .alias('rm')
    .description('remove queued or ended experiments from the queue (a running one: queue kill)')
    .argument(refs, refsHelp)
    .action((ids: string[]) =>
      withJobs(ids, async (q, jobs) => {
        const running = jobs.find((j) => j.state === 'running');
        if (running) throw new UsageError(`experiment ${running.data.name} (${running.id}) is running: use mlops queue kill`);
        for (const job of jobs) if (await q.remove(job.id)) process.stdout.write(`removed ${job.data.name} (${job.id})\n`);
      }),
    );

  queue
    .command('kill')
    .description('stop running experiments (their stages are stopped, the job ends FAILED, not retried)')
    .argument(refs, refsHelp)
    .action((ids: string[]) =>
      withJobs(ids, async (q, jobs) => {
        for (const job of jobs) {
          await q.kill(job.id);
          process.stdout.write(`${job.state === 'running' ? 'killing' : job.state === 'queued' ? 'removed' : 'not running:'} ${job.data.name} (${job.id})\n`);
        }
      }),
    );

  queue
    .command('clear')
    .description('remove every experiment of the queue that is not running')
    .action(async () => {
      const n = await withQueue((q) => q.clear());
      process.stdout.write(`${n} experiment(s) removed from the queue\n`);
    });

  queue
    .command('start')
    .description('run the queued experiments here with N workers, each in a git worktree of its commit, until the queue is empty')
    .option('-j, --jobs <n>', 'experiments to run at once', count('-j'), 1)
    .action(async (opts: { jobs: number }) => {
      await runWorker({ concurrency: opts.jobs, untilEmpty: true, folds: false });
    });

  queue
    .command('worker')
    .description('take experiments and grid-search folds from the broker (queue.url) until stopped: run it on every machine that should work')
    .option('-c, --concurrency <n>', 'experiments (and folds) to run at once', count('--concurrency'), 1)
    .action(async (opts: { concurrency: number }) => {
      await runWorker({ concurrency: opts.concurrency, untilEmpty: false, folds: true });
    });
}

/**
 * Runs a worker until it stops. Ctrl-C: the running jobs finish, nothing new starts; Ctrl-C again (or
 * SIGTERM): the running jobs are stopped and given back to the queue, for another worker.
 */
async function runWorker(options: { concurrency: number; untilEmpty: boolean; folds: boolean }): Promise<void> {
  const project = await openProject();
  const [{ queueSettings }, { startWorker }, { launcherDir }, { join }] = await Promise.all([
    import('../../queue/open.js'), import('../../queue/worker.js'), import('../launcher.js'), import('node:path'),
  ]);
  const settings = queueSettings(project);
  if (!options.untilEmpty && settings.url === undefined) {
    throw new UsageError('queue worker needs a broker: set queue.url (mlops config queue.url redis://host:6379/0); on this machine alone, use mlops queue start');
  }
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const worker = await startWorker(project, {
    ...options,
    launcher: { command: [process.execPath, join(launcherDir(), 'mlops')], env: process.env },
    onEvent: say,
  });
  say(`worker ${process.pid}: taking jobs from ${settings.url ?? 'the embedded queue'} (${options.concurrency} at once)`);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signal === 'SIGINT' && signals === 1) {
      say('finishing the running jobs, taking no new ones (Ctrl-C again returns them to the queue)');
      process.exitCode = 130;
      void worker.close('finish');
    } else {
      say('returning the running jobs to the queue');
      process.exitCode = signal === 'SIGTERM' ? 143 : 130;
      void worker.close('return');
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { foreign } = await worker.stopped;
  if (foreign) throw new UsageError(`${foreign}: stopped, the experiment is back in the queue`);
  process.exit(process.exitCode ?? 0);
}
