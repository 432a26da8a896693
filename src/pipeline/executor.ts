import { rm } from 'node:fs/promises';
import { delimiter } from 'node:path';
import type { Emit, FailureReason } from './events.js';
import { syncGitignore } from './gitignore.js';
import { lockedPath, type LockEntry, type LockedFile, type LockedPath } from './lockfile.js';
import { cmdText, type Stage } from './model.js';
import { RunCache } from './runcache.js';
import { changeReasons, lockCmd, readInputs, type ChangeReason, type StageInputs } from './status.js';
import type { Workspace } from './workspace.js';

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
  const fail = (reason: FailureReason, message: string, exitCode?: number): Outcome => {
    emit({ type: 'stage-failed', stage: stage.address, reason, message, ...(exitCode === undefined ? {} : { exitCode }) });
    return 'failed';
  };
  const inputs = await readInputs(ws, stage);
  const reasons: ChangeReason[] = options.force
    ? [{ type: 'forced' }]
    : [...changedUpstream.map((u): ChangeReason => ({ type: 'upstream-changed', stage: u })), ...(await changeReasons(ws, stage, inputs))];
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
    if (!out.persist) await rm(ws.abs(out.rel), { recursive: true, force: true });
  }
  for (const cmd of stage.cmd) {
    const result = await runCommand(ws, stage, cmd, options, emit);
    if (result.spawnError) return fail('spawn-error', result.spawnError);
    if (result.exitCode !== 0) {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
      return fail('exit-non-zero', `command '${cmd}' ${how}`, result.exitCode);
    }
  }

  const outs: LockedFile[] = [];
  for (const out of stage.outs) {
    const hashed = await ws.hash(out.rel, { forStorage: out.cache });
    if (!hashed) return fail('missing-output', `output '${out.path}' was not created by the command`);
    try {
      if (out.cache) await ws.odb.add(ws.abs(out.rel), hashed);
    } catch (error) {
      return fail('cache-error', `could not store output '${out.path}' in the cache: ${(error as Error).message}`);
    }
    outs.push(lockedPath(out.path, hashed.info));
  }
  const done: LockEntry = { ...entry, outs: sortByPath(outs) };
  await ws.lock.set(stage, done);
  if (runCache && RunCache.applies(stage)) await runCache.save(done);
  await ws.state.save();
  await syncGitignore(ws.root, stage.outs);
  emit({ type: 'stage-done', stage: stage.address, outcome: 'ran', reasons });
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

async function runCommand(ws: Workspace, stage: Stage, cmd: string, options: ReproOptions, emit: Emit): Promise<CommandResult> {
  const { execa } = await import('execa'); // only when a stage really runs: keeps no-op runs fast
  const env: Record<string, string> = { MLOPS_ROOT: ws.root, MLOPS_STAGE: stage.name };
  if (options.launcherDir) env.PATH = `${options.launcherDir}${delimiter}${process.env.PATH ?? ''}`;
  const inherit = options.stdio === 'inherit';
  const child = execa(cmd, {
    shell: true,
    cwd: ws.abs(stage.wdirRel),
    env,
    reject: false,
    stdin: inherit ? 'inherit' : 'ignore',
    stdout: inherit ? 'inherit' : 'pipe',
    stderr: inherit ? 'inherit' : 'pipe',
    buffer: false,
  });
  if (!inherit) {
    child.stdout?.on('data', (chunk: Buffer) => emit({ type: 'stage-output', stage: stage.address, stream: 'stdout', chunk: chunk.toString() }));
    child.stderr?.on('data', (chunk: Buffer) => emit({ type: 'stage-output', stage: stage.address, stream: 'stderr', chunk: chunk.toString() }));
  }
  const result = await child;
  if (result.exitCode === undefined && !result.signal) return { spawnError: result.shortMessage };
  return { exitCode: result.exitCode ?? 1, signal: result.signal };
}
