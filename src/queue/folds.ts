import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { md5File } from '../cache/hash.js';
import { LocalObjectStore } from '../cache/odb.js';
import { FailureError, UsageError } from '../core/errors.js';
import type { CvData, FoldResult, FoldTask } from '../ml/cv.js';
import { readDataset } from '../ml/dataset.js';
import { FoldThreads } from '../ml/pool.js';
import type { Splitter } from '../ml/forest.js';
import { searchFolds, type FoldExecutor } from '../ml/search.js';
import type { FanOutInput } from '../ml/train.js';
import type { TaskChoice } from '../ml/task.js';
import type { Project } from '../project/project.js';
import { objectKey } from '../remote/exists.js';
import type { OpenRemote } from '../remote/open.js';
import { openQueue, queueSettings } from './open.js';
import type { JobContext, Settled } from './queue.js';

// A grid search fanned out over the queue (`train.executor: queue`): one job per (candidate, fold). The
// training file goes into the project's cache once; each job names it by its md5 with how to read it,
// so a worker rebuilds exactly the data and folds the parent has (same file, same code, same seed) and
// fits one forest. Scores come back as JSON numbers, which round-trip doubles exactly: the gathered
// search is the local one bit for bit (fit times aside, which are measured).

export const FOLD_JOB = 'fold';
/**
 * Fold jobs a worker takes beyond its fitting threads: one waits while the others fit, so the round trip
 * that finishes a job and fetches the next is off the fits' path. The cost: at the end of a grid one
 * job may wait behind another while a worker elsewhere is idle (the last jobs are the smallest).
 */
export const FOLD_PREFETCH = 1;
const FOLD_ATTEMPTS = 3;
const FOLD_BACKOFF_MS = 500;
/**
 * Done jobs are removed in batches of this many while the search runs, so what is left to remove when
 * the last result arrives (on its critical path) is one batch, not the grid.
 */
const REMOVE_BATCH = 32;

export interface FoldJobData {
  readonly md5: string;
  readonly target: string;
  readonly task: TaskChoice;
  readonly folds: number;
  readonly seed: number;
  readonly splitter: Splitter;
  readonly fold: FoldTask;
}

/** The fold executor for `mlops train`, or why there is none. */
export async function queueFoldExecutor(project: Project, input: FanOutInput, notice: (line: string) => void): Promise<FoldExecutor | string> {
  const { url } = queueSettings(project);
  if (url === undefined) {
    return 'queue needs a broker that workers on every machine reach: set queue.url (mlops config queue.url redis://host:6379/0) and start mlops queue worker';
  }
  await (await import('./bullmq.js')).prepareBroker(url);
  const md5 = await md5File(input.file);
  // The workers read the training file from the cache; those on other machines, from the remote.
  await project.cache.add(input.file, { info: { md5, size: 0 } });
  await withRemote(project, async ({ store }) => {
    if (!(await store.exists(objectKey(md5)))) await store.put(objectKey(md5), input.file, statSync(input.file).size);
  });
  return async (cv, tasks, onResult) => {
    const queue = await openQueue(project, 'folds');
    const search = randomBytes(5).toString('hex');
    const ids = tasks.map((t) => `g${search}.${t.id}`);
    const byId = new Map(ids.map((id, i) => [id, tasks[i]!]));
    // All of a batch at once: on a broker, pipelined (one by one, a grid's hundreds of jobs made the
    // parent wait a round trip each).
    const remove = (batch: readonly string[]) => Promise.all(batch.map((id) => queue.remove(id).catch(() => undefined)));
    const done: string[] = [];
    const removing: Promise<unknown>[] = [];
    try {
      await queue.addMany(
        tasks.map((fold, i) => ({
          id: ids[i],
          name: FOLD_JOB,
          data: { md5, target: input.target, task: input.task, folds: input.folds, seed: input.seed, splitter: cv.splitter, fold } satisfies FoldJobData,
          attempts: FOLD_ATTEMPTS,
          backoffMs: FOLD_BACKOFF_MS,
        })),
      );
      notice(`train: ${tasks.length} fold jobs queued on ${queue.location} (grid ${search})`);
      await queue.waitFor(ids, (job: Settled) => {
        if (job.state === 'failed') {
          const task = byId.get(job.id)!;
          throw new FailureError(`train: grid job ${job.id} (candidate ${Math.floor(task.id / input.folds)}, fold ${task.fold}) failed after ${job.attempts} attempt(s): ${job.error ?? 'no reason given'}`);
        }
        onResult(job.result as FoldResult);
        done.push(job.id);
        if (done.length % REMOVE_BATCH === 0) removing.push(remove(done.slice(-REMOVE_BATCH)));
      });
    } finally {
      // Finished or not, the search's jobs go: those still queued are not wanted any more.
      await Promise.all(removing);
      const removed = new Set(done.slice(0, done.length - (done.length % REMOVE_BATCH)));
      await remove(ids.filter((id) => !removed.has(id)));
      await queue.close();
    }
  };
}

/**
 * The workers' side: fits one (candidate, fold). The fits run on `threads` worker threads, started with
 * the handler (before the first job) and kept from one search to the next, on the last dataset read (a
 * worker takes the folds of one search one after another). Never on this thread: its
 * event loop renews the jobs' leases (a fit may outlast the visibility timeout) and fetches the next job
 * meanwhile. A job taken while every thread is busy waits for one (see FOLD_PREFETCH).
 */
export function foldHandler(project: Project, threads: number): { handler: (context: JobContext) => Promise<FoldResult>; close(): Promise<void> } {
  const fits = new FoldThreads(undefined, threads);
  fits.prestart(threads);
  let cached: { key: string; cv: CvData } | undefined;
  const handler = async ({ job }: JobContext) => {
    const d = job.data as FoldJobData;
    const key = JSON.stringify([d.md5, d.target, d.task, d.folds, d.seed, d.splitter]);
    if (cached?.key !== key) {
      if (!project.cache.has(d.md5)) await fetchObject(project, d.md5);
      if (!project.cache.has(d.md5)) {
        throw new UsageError(`grid job ${job.id}: the training data (md5 ${d.md5}) is not in this machine's cache ${project.cacheDir}, and no default remote has it`);
      }
      const { data } = readDataset(new LocalObjectStore(project.cacheDir).pathOf(d.md5), d.target, d.task);
      cached = { key, cv: { data, folds: searchFolds(data, d.folds, d.seed), splitter: d.splitter } };
    }
    return fits.run(d.fold, cached.cv);
  };
  return { handler, close: () => fits.close() };
}

/** Runs `fn` on the project's default remote, if it has one. */
async function withRemote(project: Project, fn: (remote: OpenRemote) => Promise<void>): Promise<void> {
  const [{ readRemotes }, { openRemote }] = await Promise.all([import('../remote/config.js'), import('../remote/open.js')]);
  if (readRemotes(project).default === undefined) return;
  const remote = await openRemote(project);
  try {
    await fn(remote);
  } finally {
    await remote.store.close();
  }
}

/** Copies object `md5` from the default remote into the cache, checked against its name; nothing when there is none. */
async function fetchObject(project: Project, md5: string): Promise<void> {
  await withRemote(project, async ({ store }) => {
    if (!(await store.exists(objectKey(md5)))) return;
    const temp = join(project.cacheDir, `fetch-${md5}-${process.pid}.tmp`);
    await mkdir(project.cacheDir, { recursive: true });
    try {
      const got = await store.get(objectKey(md5), temp);
      if (got !== md5) throw new Error(`the remote's object ${objectKey(md5)} is corrupted (its content hashes to ${got})`);
      await project.cache.add(temp, { info: { md5, size: 0 } });
    } finally {
      await rm(temp, { force: true });
    }
  });
}
