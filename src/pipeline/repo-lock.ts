import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomicSync } from '../core/atomic.js';
import { UsageError } from '../core/errors.js';
import { readLock, removeStaleLock, tryCreateLock } from '../core/file-lock.js';
import { currentProcess, groupAlive, isSelfOrAncestor, processAlive, type ProcessRef } from '../core/process.js';

const POLL_MS = 200;

/** A stage's process group, recorded while it runs so that it outlives no lock unnoticed. */
export interface StageGroup {
  readonly pgid: number;
  readonly stage: string;
}

interface LockContent extends ProcessRef {
  groups?: StageGroup[];
}

/** Why acquiring waits: a live repro, or a stage a killed repro left running. */
export type LockWait = { pid: number; orphan?: StageGroup };

export interface RepoLock {
  /** Records a stage's process group, so a repro after a kill -9 waits for it instead of starting beside it. */
  addGroup(group: StageGroup): void;
  removeGroup(pgid: number): void;
  release(): void;
}

/**
 * One `repro` at a time per project. A second one waits for the first instead of failing (DVC's
 * "Unable to acquire lock" is a common complaint). The lock holds the owner's pid and process start
 * time, so a dead owner, or a reused pid, is recognised and its lock taken over; a stage process group
 * the dead owner left running is waited for. A `repro` started by a stage of the repro holding the lock
 * would wait for its own parent forever: it is refused. The model registry takes the same kind of lock
 * under its own file name to serialize alias moves.
 */
export async function acquireRepoLock(mlopsDir: string, onWait: (wait: LockWait) => void, fileName = 'repro.lock'): Promise<RepoLock> {
  mkdirSync(mlopsDir, { recursive: true });
  const file = join(mlopsDir, fileName);
  const content: LockContent = { ...currentProcess(), groups: [] };
  let announced = '';
  for (;;) {
    if (tryCreateLock(file, JSON.stringify(content))) return held(file, content);
    const text = readLock(file);
    if (text === undefined) continue; // released this instant
    const owner = parseLock(text);
    const alive = owner && processAlive(owner) !== false;
    if (owner && alive && isSelfOrAncestor(owner.pid)) {
      throw new UsageError(`a stage of the running repro (pid ${owner.pid}) cannot run repro, exp run, checkout or gc in the same project; run them after it`);
    }
    const orphan = alive ? undefined : owner?.groups?.find((g) => groupAlive(g.pgid));
    if (!alive && !orphan) {
      removeStaleLock(file, text); // dead owner, reused pid or unreadable content
      continue;
    }
    const wait: LockWait = { pid: owner!.pid, ...(orphan ? { orphan } : {}) };
    if (announced !== JSON.stringify(wait)) {
      onWait(wait);
      announced = JSON.stringify(wait);
    }
    await sleep(POLL_MS);
  }
}

function held(file: string, content: LockContent): RepoLock {
  const release = () => rmSync(file, { force: true });
  process.once('exit', release);
  const rewrite = () => writeFileAtomicSync(file, JSON.stringify(content));
  return {
    addGroup(group) {
      content.groups = [...(content.groups ?? []), group];
      rewrite();
    },
    removeGroup(pgid) {
      content.groups = (content.groups ?? []).filter((g) => g.pgid !== pgid);
      rewrite();
    },
    release() {
      process.off('exit', release);
      release();
    },
  };
}

/** The owner of a lock; a bare pid is what earlier versions wrote. undefined when unreadable. */
function parseLock(text: string): LockContent | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? { pid: value } : undefined;
    const lock = value as LockContent;
    return lock && Number.isInteger(lock.pid) && lock.pid > 0 ? lock : undefined;
  } catch {
    return undefined;
  }
}
