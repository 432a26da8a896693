import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentProcess, processAlive, type ProcessRef } from './process.js';

// A lock is a file that appears whole or not at all: its content (the owner) is written to a temp file
// first and hard-linked to the lock's name, which fails if the lock exists. Taking over a stale lock is
// done by one process at a time (a `.takeover` folder, created atomically with mkdir), which removes
// the lock only if it still holds the very content judged stale: two waiters can never both win.

/** A takeover takes microseconds; a takeover folder this old was left by a process killed inside one. */
const TAKEOVER_STALE_MS = 10_000;

/** Creates `file` holding `content`; false when it already exists. */
export function tryCreateLock(file: string, content: string): boolean {
  const temp = `${file}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, content);
  try {
    linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** The lock's content; undefined when there is no lock. */
export function readLock(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Removes the lock if it still holds `staleContent`; true when the caller may try to create it again. */
export function removeStaleLock(file: string, staleContent: string): boolean {
  const mutex = `${file}.takeover`;
  try {
    mkdirSync(mutex);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    clearStaleMutex(mutex);
    return false;
  }
  try {
    if (readLock(file) !== staleContent) return false;
    unlinkSync(file);
    return true;
  } finally {
    rmdirSync(mutex);
  }
}

function clearStaleMutex(mutex: string): void {
  try {
    if (Date.now() - statSync(mutex).mtimeMs > TAKEOVER_STALE_MS) rmdirSync(mutex);
  } catch {
    // gone meanwhile: its holder finished
  }
}

/**
 * Runs `fn` holding the lock `file` (short critical sections: a read-modify-write of one small file).
 * A lock whose owner process is gone is taken over.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const me = JSON.stringify(currentProcess());
  for (;;) {
    if (tryCreateLock(file, me)) break;
    const text = readLock(file);
    if (text === undefined) continue;
    if (!ownerAlive(text)) removeStaleLock(file, text);
    else await sleep(LOCK_POLL_MS);
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

const LOCK_POLL_MS = 10;

function ownerAlive(text: string): boolean {
  try {
    const owner = JSON.parse(text) as ProcessRef;
    return Number.isInteger(owner.pid) && processAlive(owner) !== false;
  } catch {
    return false; // unreadable: never written whole by us, so left by something else
  }
}
