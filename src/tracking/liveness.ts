import { processAlive } from '../core/process.js';
import type { Run, RunStatus } from './store.js';
import { HOST_TAG, PID_TAG, PROCESS_START_TAG } from './tracked-run.js';

/**
 * A RUNNING run whose owning process is gone (kill -9, the OOM killer, a crash while recording the end):
 * it will never end by itself. Runs from another host, or without the owner tags (other tools'), are
 * never judged dead.
 */
export function isDead(run: Run): boolean {
  return run.info.status === 'RUNNING' && ownerAlive(run) === false;
}

/** Whether the process that started the run lives; undefined when that cannot be told. */
function ownerAlive(run: Run): boolean | undefined {
  const pid = Number(run.tags[PID_TAG]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return processAlive({ pid, host: run.tags[HOST_TAG], start: run.tags[PROCESS_START_TAG] });
}

/** The status a listing shows: DEAD for a RUNNING run whose process is gone. */
export function shownStatus(run: Run): RunStatus | 'DEAD' {
  return isDead(run) ? 'DEAD' : run.info.status;
}

/** Why a run cannot be closed, or undefined when it can (it is RUNNING, and not by a live process here). */
export function closeRefusal(run: Run): string | undefined {
  if (run.info.status !== 'RUNNING') return `it has already ended (${run.info.status})`;
  return ownerAlive(run) ? `its process (pid ${run.tags[PID_TAG]}) is still running; stop it, or it ends the run itself` : undefined;
}
