import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { UsageError } from '../core/errors.js';
import { processAlive } from '../core/process.js';
import { checkOverrides, parseOverride } from '../exp/overrides.js';
import { pinSharedStores } from '../exp/run.js';
import { SAVED_OBJECT_TAG } from '../exp/record.js';
import { experimentRuns } from '../exp/runs.js';
import { setConfig } from '../project/config.js';
import type { Project } from '../project/project.js';
import { newJobId } from './local.js';
import { openQueue } from './open.js';
import { UnrecoverableJobError, type JobContext, type JobInfo, type JobQueue } from './queue.js';

// Queued experiments: `exp run --queue` checks and records what to run (the commit, the overrides, the
// targets) and returns; a worker runs it later in a git worktree of that commit, with the overrides
// written there, as `mlops exp run` in a child process whose output is the job's log. The worktree's
// config points at the project's cache and tracking store, so the record and the outputs outlive it and
// `exp show` / `exp apply` find them. The user's workspace is never written.

/** The tag a queued experiment's record carries: the job it ran for (one record per job, whatever the retries). */
export const QUEUE_JOB_TAG = 'mlops.queue.job';
export const EXPERIMENT_JOB = 'experiment';
/** Retries for what is not the experiment's fault (a worker killed, a machine gone). */
const EXPERIMENT_ATTEMPTS = 3;
const EXPERIMENT_BACKOFF_MS = 5000;
/** After SIGTERM, how long a killed or returned experiment's stages get to stop before SIGKILL. */
const TERM_GRACE_MS = 10_000;

const execFileAsync = promisify(execFile);
const git = async (cwd: string, args: string[]) => (await execFileAsync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 })).stdout.trim();

export interface QueuedExperiment {
  readonly commit: string;
  /** The project's root relative to the repository's top (POSIX; '' at the top). */
  readonly root: string;
  readonly overrides: readonly string[];
  readonly targets: readonly string[];
  readonly name: string;
  /** The pipeline file relative to the project root, when narrowed to one. */
  readonly file?: string;
  /** The repository's origin URL (credentials removed), '' without one: a worker elsewhere must match it. */
  readonly repo: string;
}

export interface EnqueueRequest {
  readonly overrides: readonly string[];
  readonly targets: readonly string[];
  readonly name?: string;
  readonly file?: string;
}

interface Repository {
  readonly top: string;
  readonly origin: string;
}

export async function inGitRepository(project: Project): Promise<boolean> {
  return git(project.root, ['rev-parse', '--show-toplevel']).then(() => true, () => false);
}

async function repository(project: Project, what: string): Promise<Repository> {
  let top: string;
  try {
    top = await git(project.root, ['rev-parse', '--show-toplevel']);
  } catch {
    throw new UsageError(`${what} needs a git repository: a queued experiment runs at a commit (${project.root} is not in one)`);
  }
  const origin = await git(top, ['remote', 'get-url', 'origin']).catch(() => '');
  return { top, origin: origin.replace(/\/\/[^/@]*@/, '//') };
}

/**
 * Records an experiment to run later, after checking everything that can be checked now: a commit to
 * run at, every override against the params files of that commit (a typo is refused now, not at 3 am).
 * Nothing is queued unless all of it holds.
 */
export async function enqueueExperiment(project: Project, request: EnqueueRequest, notice: (line: string) => void): Promise<JobInfo<QueuedExperiment>> {
  const { top, origin } = await repository(project, 'exp run --queue');
  const commit = await git(top, ['rev-parse', '--verify', 'HEAD^{commit}']).catch(() => {
    throw new UsageError('exp run --queue needs a commit to run at: this repository has none yet');
  });
  const root = relative(top, project.root).split(sep).join('/');
  const overrides = request.overrides.map(parseOverride);
  const atCommit = (file: string) => {
    try {
      return execFileSync('git', ['show', `${commit}:${posix.join(root, file)}`], { cwd: top, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
    } catch {
      return undefined;
    }
  };
  checkOverrides(overrides, atCommit);
  const file = request.file === undefined ? undefined : relative(project.root, project.fromCwd(request.file)).split(sep).join('/');
  if (file !== undefined && atCommit(file) === undefined) throw new UsageError(`--file ${request.file}: not in commit ${commit.slice(0, 7)}`);
  const queue = await openQueue(project, 'experiments'); // an unreachable broker is refused before any note
  try {
    if (await git(top, ['status', '--porcelain', '--untracked-files=no'])) {
      notice(`note: uncommitted changes are not queued: the experiment runs at commit ${commit.slice(0, 7)}`);
    }
    const id = newJobId();
    const data: QueuedExperiment = {
      commit, root, overrides: request.overrides, targets: request.targets, name: request.name ?? `exp-${id}`, repo: origin, ...(file === undefined ? {} : { file }),
    };
    return await queue.add({ id, name: EXPERIMENT_JOB, data, attempts: EXPERIMENT_ATTEMPTS, backoffMs: EXPERIMENT_BACKOFF_MS });
  } finally {
    await queue.close();
  }
}

/** How a worker starts `mlops`: the node binary and the launcher of this very build, and the environment to give it. */
export interface Launcher {
  readonly command: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/**
 * A worker's checks before taking jobs: its repository is the one the queued experiments come from.
 * Returns the origin of the first queued experiment that is not, if any.
 */
export async function foreignExperiment(project: Project, queue: JobQueue): Promise<{ theirs: string; ours: string } | undefined> {
  const { origin } = await repository(project, 'a queue worker');
  const foreign = (await queue.list()).find((j) => j.name === EXPERIMENT_JOB && j.state === 'queued' && (j.data as QueuedExperiment).repo !== origin);
  return foreign && { theirs: (foreign.data as QueuedExperiment).repo || '(no origin)', ours: origin || '(no origin)' };
}

/** Thrown by the handler for an experiment of another repository: the worker gives it back and stops. */
export class ForeignRepositoryError extends Error {}

/**
 * Runs one queued experiment (a worker's handler). Idempotent per job: an attempt that finds the job
 * already recorded (its worker killed after recording, before the queue heard) returns that run; a
 * half-written record of a killed attempt is removed before the experiment runs again.
 */
export async function runQueuedExperiment(project: Project, context: JobContext<QueuedExperiment>, launcher: Launcher): Promise<{ run_id: string }> {
  const { job } = context;
  const d = job.data;
  const { top, origin } = await repository(project, 'a queue worker');
  if (d.repo !== origin) throw new ForeignRepositoryError(`experiment ${job.id} comes from ${d.repo || '(no origin)'}; this worker's repository is at ${origin || '(no origin)'}`);
  const recorded = await jobRecords(project, job.id);
  const finished = recorded.find((r) => r.status === 'FINISHED');
  if (finished) {
    await context.log(`already recorded as run ${finished.runId} by attempt ${job.attempts - 1}; not run again`);
    // That attempt may have stopped before it shared the record.
    if (!finished.shared && (await hasDefaultRemote(project))) await shareRecord(project, finished.runId, context);
    return { run_id: finished.runId };
  }
  const { store } = await project.tracking();
  for (const r of recorded) await store.deleteRun(r.runId);
  if (!(await hasCommit(top, d.commit))) {
    await git(top, ['fetch', '--quiet']).catch(() => undefined);
    if (!(await hasCommit(top, d.commit))) throw new UnrecoverableJobError(`commit ${d.commit.slice(0, 7)} is not in this repository (${top}), not even after git fetch`);
  }
  const worktrees = join(project.mlopsDir, 'tmp', 'queue');
  await removeLeftWorktrees(top, worktrees);
  const dir = join(worktrees, `${job.id}-${process.pid}`);
  await git(top, ['worktree', 'add', '--detach', '--force', dir, d.commit]);
  try {
    const root = join(dir, ...d.root.split('/').filter(Boolean));
    await pinSharedStores(project, root);
    const remote = await pinRemote(project, root);
    await context.log(`worker ${process.pid}: experiment ${d.name} at ${d.commit.slice(0, 7)}, attempt ${job.attempts}`);
    if (remote) await pullInputs(launcher, root, context);
    const args = ['exp', 'run', '--queue-job', job.id, '-n', d.name, ...d.overrides.flatMap((o) => ['-S', o]), ...(d.file ? ['--file', d.file] : []), ...d.targets];
    const code = await runLogged(launcher, args, root, context);
    if (context.signal.aborted) throw new Error(String(context.signal.reason));
    const record = (await jobRecords(project, job.id))[0];
    if (code === 0 && record) {
      if (remote) {
        await pushOutputs(launcher, root, context);
        await shareRecord(project, record.runId, context);
      }
      return { run_id: record.runId };
    }
    if (code === 1 && record) throw new UnrecoverableJobError(`a stage failed: recorded as run ${record.runId} (FAILED); see mlops queue logs ${job.id}`);
    if (code === 2) throw new UnrecoverableJobError(`exp run refused the experiment (exit 2); see mlops queue logs ${job.id}`);
    throw new Error(`exp run ended with ${code === null ? 'a signal' : `exit code ${code}`} and no record`);
  } finally {
    await git(top, ['worktree', 'remove', '--force', dir]).catch(() => rm(dir, { recursive: true, force: true }));
  }
}

/**
 * With a default remote, the worktree uses it as the worker's clone does: the remote settings of the
 * clone's `config.local` (credentials, a machine's own URL) are copied into the worktree's, a relative
 * folder made absolute. True when the worktree has a default remote.
 */
async function pinRemote(project: Project, root: string): Promise<boolean> {
  const { readRemotes } = await import('../remote/config.js');
  for (const value of project.config.list()) {
    if (!value.path.endsWith('config.local') || !(value.key.startsWith('remote.') || value.key === 'core.remote')) continue;
    const relativeFolder = value.key.endsWith('.url') && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value.value) && !isAbsolute(value.value);
    await setConfig(root, 'local', value.key, relativeFolder ? resolve(dirname(value.path), value.value) : value.value);
  }
  return readRemotes({ root, isDvcRepo: project.isDvcRepo }).default !== undefined;
}

async function hasDefaultRemote(project: Project): Promise<boolean> {
  const { readRemotes } = await import('../remote/config.js');
  return readRemotes(project).default !== undefined;
}

/** The record's saved workspace on the remote too, so `exp pull` works on a machine that cannot reach this one's artifacts. */
async function shareRecord(project: Project, runId: string, context: JobContext): Promise<void> {
  const { shareExperiment } = await import('../exp/pull.js');
  await context.log(`share: the record's files to the remote (${await shareExperiment(project, runId)})`);
}

/** `mlops pull --run-cache` in the worktree: the inputs and the run-cache; what the remote lacks, the pipeline makes. */
async function pullInputs(launcher: Launcher, root: string, context: JobContext): Promise<void> {
  await context.log('pull: the inputs and the run-cache from the remote');
  const code = await runLogged(launcher, ['pull', '--run-cache'], root, context);
  if (code === 2) throw new UnrecoverableJobError(`mlops pull refused the remote's settings (exit 2); see mlops queue logs ${context.job.id}`);
  if (code !== 0 && code !== 1) throw new Error(`mlops pull ended with ${code === null ? 'a signal' : `exit code ${code}`}`);
}

/** `mlops push --run-cache` in the worktree: the outputs and the run-cache, for every other machine. */
async function pushOutputs(launcher: Launcher, root: string, context: JobContext): Promise<void> {
  await context.log('push: the outputs and the run-cache to the remote');
  const code = await runLogged(launcher, ['push', '--run-cache'], root, context);
  if (code !== 0) throw new Error(`mlops push ended with ${code === null ? 'a signal' : `exit code ${code}`}: the outputs are not on the remote yet`);
}

async function jobRecords(project: Project, jobId: string): Promise<{ runId: string; status: string; shared: boolean }[]> {
  return (await experimentRuns(project))
    .filter((r) => r.tags[QUEUE_JOB_TAG] === jobId)
    .map((r) => ({ runId: r.info.run_id, status: r.info.status, shared: r.tags[SAVED_OBJECT_TAG] !== undefined }));
}

async function hasCommit(top: string, commit: string): Promise<boolean> {
  return git(top, ['cat-file', '-e', `${commit}^{commit}`]).then(() => true, () => false);
}

/** Worktrees of workers that were killed (their pid is gone): removed, so they do not pile up. */
async function removeLeftWorktrees(top: string, dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const name of await readdir(dir)) {
    const pid = Number(name.slice(name.lastIndexOf('-') + 1));
    if (Number.isInteger(pid) && pid > 0 && processAlive({ pid }) === false) {
      await git(top, ['worktree', 'remove', '--force', join(dir, name)]).catch(() => rm(join(dir, name), { recursive: true, force: true }));
    }
  }
  await git(top, ['worktree', 'prune']).catch(() => undefined);
}

/**
 * Runs `mlops args` in `cwd`, each output line into the job's log. In a process group of its own, so a
 * Ctrl-C at the worker's terminal does not reach it (the worker decides: finish or return); a kill or a
 * return stops the group (SIGTERM, then SIGKILL after a grace period).
 */
function runLogged(launcher: Launcher, args: string[], cwd: string, context: JobContext): Promise<number | null> {
  const [command, ...pre] = launcher.command;
  const env: NodeJS.ProcessEnv = { ...launcher.env, CI: 'true' };
  delete env.MLOPS_ROOT; // the worktree is the project root here
  const child = spawn(command!, [...pre, ...args], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let logging = Promise.resolve();
  const log = (line: string) => (logging = logging.then(() => context.log(line)).catch(() => undefined));
  createInterface({ input: child.stdout! }).on('line', log);
  createInterface({ input: child.stderr! }).on('line', log);
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    signalGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), TERM_GRACE_MS);
  };
  context.signal.addEventListener('abort', stop, { once: true });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killTimer);
      context.signal.removeEventListener('abort', stop);
      void logging.then(() => resolve(code));
    });
  });
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  try {
    if (pid) process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** A queued, running or failed queued experiment, as `exp show` lists it beside the recorded ones. */
export interface QueuedRow {
  readonly jobId: string;
  readonly name: string;
  readonly commit: string;
  readonly state: 'Queued' | 'Running' | 'Failed';
  readonly created: number;
  readonly overrides: readonly string[];
}

/** The project's queued experiments not (yet) recorded; none when the project has no queue. */
export async function queuedExperimentRows(project: Project, recordedJobs: ReadonlySet<string>): Promise<QueuedRow[]> {
  if (!project.config.get('queue.url') && !existsSync(join(project.mlopsDir, 'queue', 'experiments'))) return [];
  const queue = await openQueue(project, 'experiments');
  try {
    const states = { queued: 'Queued', running: 'Running', failed: 'Failed' } as const;
    return (await queue.list())
      .filter((j) => j.name === EXPERIMENT_JOB && j.state !== 'done' && !recordedJobs.has(j.id))
      .map((j) => {
        const d = j.data as QueuedExperiment;
        return { jobId: j.id, name: d.name, commit: d.commit, state: states[j.state as keyof typeof states], created: j.created, overrides: d.overrides };
      })
      .sort((a, b) => b.created - a.created);
  } finally {
    await queue.close();
  }
}

/** The job `ref` names in the experiments queue: its id, a unique prefix of it (4+ characters), or its experiment's name. */
export async function findJob(queue: JobQueue, ref: string): Promise<JobInfo<QueuedExperiment>> {
  const jobs = (await queue.list()) as JobInfo<QueuedExperiment>[];
  const exact = jobs.find((j) => j.id === ref);
  if (exact) return exact;
  const named = jobs.filter((j) => j.data.name === ref);
  const matches = named.length ? named : ref.length >= 4 ? jobs.filter((j) => j.id.startsWith(ref)) : [];
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new UsageError(`'${ref}' names ${matches.length} queued experiments (${matches.map((j) => j.id).join(', ')}): give a job id`);
  throw new UsageError(`no queued experiment '${ref}' (see mlops queue status)`);
}
