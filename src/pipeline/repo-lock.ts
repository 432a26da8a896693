import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 200;

/**
 * One `repro` at a time per project. A second one waits for the first instead of failing (DVC's
 * "Unable to acquire lock" is a common complaint). The lock file holds the owner's pid; a lock whose
 * owner is gone (kill -9) is taken over, so a crash never wedges the project. The model registry takes
 * the same kind of lock under its own file name to serialize alias moves.
 */
export async function acquireRepoLock(mlopsDir: string, onWait: (pid: number) => void, fileName = 'repro.lock'): Promise<() => void> {
  mkdirSync(mlopsDir, { recursive: true });
  const file = join(mlopsDir, fileName);
  let announced = false;
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      const release = () => rmSync(file, { force: true });
      process.once('exit', release);
      return () => {
        process.off('exit', release);
        release();
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = ownerPid(file);
    if (owner === undefined) {
      await sleep(POLL_MS); // being created by another process this instant: look again
      if (ownerPid(file) === undefined) rmSync(file, { force: true });
      continue;
    }
    if (!alive(owner)) {
      rmSync(file, { force: true }); // stale: its owner died without releasing it
      continue;
    }
    if (!announced) {
      onWait(owner);
      announced = true;
    }
    await sleep(POLL_MS);
  }
}

function ownerPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
