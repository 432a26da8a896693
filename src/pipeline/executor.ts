import { rm } from 'node:fs/promises';
import { removeStaleTemps } from '../core/atomic.js';
import { delimiter } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { interruptedBy, onInterrupt } from '../core/interrupt.js';
import type { Emit, FailureReason } from './events.js';
import { rootAddress } from './address.js';
import { syncGitignore } from './gitignore.js';
import { lockedPath, type LockEntry, type LockedFile, type LockedPath } from './lockfile.js';
import { cmdText, type Stage } from './model.js';
import { RunCache } from './runcache.js';
import type { RepoLock } from './repo-lock.js';
import { changeReasons, describeReason, lockCmd, readInputs, type ChangeReason, type StageInputs } from './status.js';
import type { Workspace } from './workspace.js';

/** After Ctrl-C or SIGTERM is passed on to a stage, how long it may take to end before it is killed. */
const STAGE_GRACE_MS = 10_000;

/** Records each stage that runs (experiment tracking); the pipeline code knows only this interface. */
export interface StageTracker {
  start(stage: { name: string; cmd: string; reasons: readonly string[] }): Promise<StageRun>;
}

export interface StageRun {
  /** Variables naming the run (MLFLOW_RUN_ID...), put in the stage's environment. */
  readonly env: Readonly<Record<string, string>>;
  end(result: { status: 'FINISHED' | 'FAILED' | 'KILLED'; exitCode?: number; durationMs: number }): Promise<void>;
}

export interface ReproOptions {
  /** Run every selected stage, changed or not, and bypass the run-cache. */
  readonly force?: boolean;
  /** Report what would run without running anything. */
  readonly dry?: boolean;
  /** After a failure, go on with stages that do not depend on the failed one. */
  readonly keepGoing?: boolean;
  /** Stages run at once when the graph allows (default 1). */
  readonly jobs?: number;
  /** Restore outputs of input combinations seen before (default true). */
  readonly runCache?: boolean;
  /** Put first on each stage's PATH, so `mlops` in a cmd is this very build. */
  readonly launcherDir?: string;
  /** 'inherit' hands the terminal to the stage; 'pipe' streams its output through events. */
  readonly stdio?: 'inherit' | 'pipe';
  /** Where each running stage's process group is recorded (the repo lock). */
  readonly groups?: Pick<RepoLock, 'addGroup' | 'removeGroup'>;
  readonly tracker?: StageTracker;
}

export type StageResult = 'ok' | 'failed' | 'skipped';

/**
 * Runs `stages` (already in dependency order), each as soon as its selected upstream stages are done;
 * `upstream` gives a stage's direct upstream stages by address.
 */
export async function reproduce(
  ws: Workspace,
  stages: readonly Stage[],
  upstream: (name: string) => readonly string[],
  options: ReproOptions,
  emit: Emit,
): Promise<Map<string, StageResult>> {
  const results = new Map<string, StageResult>();
  const selected = new Set(stages.map((s) => s.address));
  const wouldRun = new Set<string>(); // for --dry: stages downstream of these would run too
  const runCache = options.runCache === false ? undefined : new RunCache(ws.runCacheDir, ws.odb);
  const running = new Map<string, Promise<void>>();
  const pending = [...stages];
  const jobs = Math.max(1, options.jobs ?? 1);
  let stopped = false;

  const start = (stage: Stage) => {
    const task = runOne(ws, stage, options, runCache, emit, upstream(stage.address).filter((u) => wouldRun.has(u)))
      .then((outcome) => {
        if (outcome === 'would-run') wouldRun.add(stage.address);
        results.set(stage.address, outcome === 'failed' ? 'failed' : 'ok');
        if (outcome === 'failed' && !options.keepGoing) stopped = true;
      })
      .finally(() => running.delete(stage.address));
    running.set(stage.address, task);
  };

  const failedUpstream = (stage: Stage) =>
    upstream(stage.address).find((u) => results.get(u) === 'failed' || results.get(u) === 'skipped');
  const skip = (stage: Stage, upstreamName: string | undefined) => {
    results.set(stage.address, 'skipped');
    emit({ type: 'stage-skipped', stage: stage.address, reason: upstreamName ? 'upstream-failed' : 'stopped', upstream: upstreamName });
  };

  while (pending.length > 0 || running.size > 0) {
    for (let i = 0; i < pending.length && running.size < jobs && !stopped; ) {
      const stage = pending[i]!;
      const blocked = failedUpstream(stage);
      if (blocked) {
        pending.splice(i, 1);
        skip(stage, blocked);
      } else if (upstream(stage.address).every((u) => !selected.has(u) || results.get(u) === 'ok')) {
        pending.splice(i, 1);
        start(stage);
      } else {
        i++;
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  for (const stage of pending) skip(stage, failedUpstream(stage));
  await ws.state.save();
  return results;
}

type Outcome = 'done' | 'would-run' | 'failed';

async function runOne(
  ws: Workspace,
  stage: Stage,
  options: ReproOptions,
  runCache: RunCache | undefined,
  emit: Emit,
  changedUpstream: readonly string[],
): Promise<Outcome> {
  const inputs = await readInputs(ws, stage);
  const reasons: ChangeReason[] = options.force
    ? [{ type: 'forced' }]
    : [...changedUpstream.map((u): ChangeReason => ({ type: 'upstream-changed', stage: u })), ...(await changeReasons(ws, stage, inputs))];
  const fail = (reason: FailureReason, message: string, exitCode?: number): Outcome => {
    emit({ type: 'stage-failed', stage: stage.address, reason, message, reasons, ...(exitCode === undefined ? {} : { exitCode }) });
    return 'failed';
  };
  if (reasons.length === 0) {
    emit({ type: 'stage-done', stage: stage.address, outcome: stage.frozen ? 'frozen' : 'up-to-date', reasons });
    return 'done';
  }
  if (options.dry) {
    emit({ type: 'stage-done', stage: stage.address, outcome: 'would-run', reasons });
    return 'would-run';
  }
  const missing = inputs.deps.find((d) => !d.hashed);
  if (missing) return fail('missing-dependency', `dependency '${missing.ref.path}' does not exist`);

  const entry = lockInputs(stage, inputs);
  if (runCache && !options.force && RunCache.applies(stage)) {
    const outs = runCache.lookup(entry);
    if (outs && samePaths(outs, stage) && (await restore(ws, stage, outs))) {
      await ws.lock.set(stage, { ...entry, outs });
      await syncGitignore(ws.root, stage.outs);
      emit({ type: 'stage-done', stage: stage.address, outcome: 'restored', reasons });
      return 'done';
    }
  }

  emit({ type: 'stage-start', stage: stage.address, reasons, cmd: cmdText(stage) });
  for (const out of stage.outs) {
    ws.forget(out.rel);
    if (out.persist) continue;
    try {
      await rm(ws.abs(out.rel), { recursive: true, force: true });
      await removeStaleTemps(ws.abs(out.rel)); // a killed checkout's half-copied `<out>.tmp-<pid>-*`
    } catch (error) {
      // Read-only or immutable (chattr +i) outputs; node's rm then reports a misleading ENOTDIR.
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      return fail('output-error', `could not remove the old output '${out.path}' before running (${code}): is it read-only or immutable?`);
    }
  }
  const started = Date.now();
  const run = await options.tracker?.start({ name: rootAddress(stage), cmd: cmdText(stage), reasons: reasons.map(describeReason) });
  const endRun = async (status: 'FINISHED' | 'FAILED' | 'KILLED', exitCode?: number) =>
    run?.end({ status, durationMs: Date.now() - started, ...(exitCode === undefined ? {} : { exitCode }) });
  const finishing = (async (): Promise<Outcome> => {
    const outcome = await runCommands(ws, stage, options, emit, run?.env ?? {});
    if (outcome.failure) {
      const { reason, message, exitCode, status } = outcome.failure;
      await endRun(status, exitCode);
      return fail(reason, message, exitCode);
    }
    const finished = await recordOutputs(ws, stage, entry, runCache, fail);
    await endRun(finished === 'done' ? 'FINISHED' : 'FAILED', 0);
    if (finished === 'done') emit({ type: 'stage-done', stage: stage.address, outcome: 'ran', reasons });
    return finished;
  })();
  // Interrupted, the process exits only once the stopped stage's run is recorded.
  const unregister = onInterrupt(() => finishing.then(() => undefined, () => undefined));
  try {
    return await finishing;
  } finally {
    unregister();
  }
}

interface CommandsOutcome {
  failure?: { reason: FailureReason; message: string; exitCode?: number; status: 'FAILED' | 'KILLED' };
}

/** The stage's commands in order, until one fails. */
async function runCommands(ws: Workspace, stage: Stage, options: ReproOptions, emit: Emit, env: Readonly<Record<string, string>>): Promise<CommandsOutcome> {
  for (const cmd of stage.cmd) {
    const result = await runCommand(ws, stage, cmd, options, emit, env);
    if (result.spawnError) return { failure: { reason: 'spawn-error', message: result.spawnError, status: 'FAILED' } };
    const signal = interruptedBy();
    if (signal) return { failure: { reason: 'interrupted', message: `interrupted by ${signal}`, exitCode: result.exitCode, status: signal === 'SIGINT' ? 'FAILED' : 'KILLED' } };
    if (result.exitCode !== 0) {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
      return { failure: { reason: 'exit-non-zero', message: `command '${cmd}' ${how}`, exitCode: result.exitCode, status: 'FAILED' } };
    }
  }
  return {};
}

/** Hashes and caches the outputs, and records the stage in the lock file and the run-cache. */
async function recordOutputs(
  ws: Workspace, stage: Stage, entry: LockEntry, runCache: RunCache | undefined,
  fail: (reason: FailureReason, message: string) => Outcome,
): Promise<Outcome> {
  const outs: LockedFile[] = [];
  // An uncached output is stored too when the run-cache keeps this stage, so that it can come back.
  const runCached = runCache !== undefined && RunCache.applies(stage);
  for (const out of stage.outs) {
    const store = out.cache || runCached;
    const hashed = await ws.hash(out.rel, { forStorage: store });
    if (!hashed) return fail('missing-output', `output '${out.path}' was not created by the command`);
    try {
      if (store) await ws.odb.add(ws.abs(out.rel), hashed);
    } catch (error) {
      return fail('cache-error', `could not store output '${out.path}' in the cache: ${(error as Error).message}`);
    }
    outs.push(lockedPath(out.path, hashed.info));
  }
  const done: LockEntry = { ...entry, outs: sortByPath(outs) };
  await ws.lock.set(stage, done);
  if (runCached) await runCache.save(done);
  await ws.state.save();
  await syncGitignore(ws.root, stage.outs);
  return 'done';
}

/** The lock entry's input half, hashed before the command runs so edits during a run are not recorded as seen. */
function lockInputs(stage: Stage, inputs: StageInputs): LockEntry {
  const deps = inputs.deps.map(({ ref, hashed }): LockedPath => (hashed!.http ? { path: ref.path, ...hashed!.http } : lockedPath(ref.path, hashed!.info)));
  return {
    cmd: lockCmd(stage),
    ...(deps.length ? { deps: sortByPath(deps) } : {}),
    ...(stage.params.length ? { params: inputs.params } : {}),
  };
}

function sortByPath<T extends LockedPath>(paths: T[]): T[] {
  return paths.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function samePaths(outs: readonly LockedFile[], stage: Stage): boolean {
  const want = stage.outs.map((o) => o.path).sort();
  return outs.length === want.length && outs.every((o, i) => o.path === want[i]);
}

/** Checks out run-cached outputs; false (and the stage simply runs) when any object is unusable. */
async function restore(ws: Workspace, stage: Stage, outs: readonly LockedFile[]): Promise<boolean> {
  try {
    for (const out of outs) {
      const spec = stage.outs.find((o) => o.path === out.path)!;
      ws.forget(spec.rel);
      await ws.odb.checkout(out.md5, ws.abs(spec.rel));
    }
    return true;
  } catch {
    return false;
  }
}

interface CommandResult {
  exitCode?: number;
  signal?: string;
  spawnError?: string;
}

/**
 * One command in its own process group, so that Ctrl-C or SIGTERM to repro reaches every process of
 * the stage (a shell's children too): the signal is passed on to the group, which gets STAGE_GRACE_MS to
 * end before SIGKILL. The group is recorded in the repo lock while it runs, so a repro killed with -9
 * does not let the next one start beside a stage still writing its outputs.
 */
async function runCommand(
  ws: Workspace, stage: Stage, cmd: string, options: ReproOptions, emit: Emit, runEnv: Readonly<Record<string, string>>,
): Promise<CommandResult> {
  const { execa } = await import('execa'); // only when a stage really runs: keeps no-op runs fast
  const env: Record<string, string> = { ...runEnv, MLOPS_ROOT: ws.root, MLOPS_STAGE: stage.name };
  if (options.launcherDir) env.PATH = `${options.launcherDir}${delimiter}${process.env.PATH ?? ''}`;
  const inherit = options.stdio === 'inherit';
  const child = execa(cmd, {
    shell: true,
    cwd: ws.abs(stage.wdirRel),
    env,
    reject: false,
    detached: true, // a process group of its own; it may not read the terminal (stdin), as a background job
    stdin: 'ignore',
    stdout: inherit ? 'inherit' : 'pipe',
    stderr: inherit ? 'inherit' : 'pipe',
    buffer: false,
  });
  if (!inherit) {
    child.stdout?.on('data', (chunk: Buffer) => emit({ type: 'stage-output', stage: stage.address, stream: 'stdout', chunk: chunk.toString() }));
    child.stderr?.on('data', (chunk: Buffer) => emit({ type: 'stage-output', stage: stage.address, stream: 'stderr', chunk: chunk.toString() }));
  }
  const pgid = child.pid;
  const ended = child.then(() => undefined, () => undefined);
  if (pgid !== undefined) options.groups?.addGroup({ pgid, stage: stage.name });
  const stopOnInterrupt = onInterrupt(async (signal) => {
    if (pgid === undefined) return;
    signalGroup(pgid, signal);
    if (await Promise.race([ended.then(() => true), sleep(STAGE_GRACE_MS).then(() => false)])) return;
    signalGroup(pgid, 'SIGKILL');
    await ended;
  });
  try {
    const result = await child;
    if (result.exitCode === undefined && !result.signal) return { spawnError: result.shortMessage };
    return { exitCode: result.exitCode ?? 1, signal: result.signal };
  } finally {
    stopOnInterrupt();
    if (pgid !== undefined) {
      // The shell has exited; anything it left in the background of its group goes with it.
      signalGroup(pgid, 'SIGKILL');
      options.groups?.removeGroup(pgid);
    }
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group has already ended
  }
}
