import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

// Every file the tool owns is written beside its final place and renamed over it, so a reader (or a
// kill -9) only ever sees the old content or the new, never a half-written file.

export function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

const TEMP_NAME = /\.tmp-(\d+)-[0-9a-f]{8}$/;

/** A temp file of ours (tempName's pattern), which a reader may see for a moment beside the file being written. */
export const isTempName = (name: string): boolean => TEMP_NAME.test(name);

/**
 * A temp file left by a writer that was killed (kill -9, OOM, power loss): its process is gone. A live
 * process with that pid (perhaps a reused one) keeps it: leaving a stray file is the safe mistake.
 */
export function isStaleTemp(name: string): boolean {
  const pid = TEMP_NAME.exec(name)?.[1];
  if (pid === undefined) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Stale temp files anywhere under `dir` (absolute paths); none when it does not exist. */
export function staleTempsUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((rel) => isStaleTemp(basename(rel))).map((rel) => join(dir, rel));
}

/** Removes the stale temp files of writes to `path` (siblings named `<name>.tmp-<pid>-<hex>`). */
export async function removeStaleTemps(path: string): Promise<void> {
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return; // no folder, no temp files
  }
  for (const name of names) if (name.startsWith(prefix) && isStaleTemp(name)) await rm(join(dirname(path), name), { force: true });
}

/** Puts at `path` what `write` makes at a temp name beside it (content, copy, link), renamed over it. */
export async function writeAtomically(path: string, write: (temp: string) => Promise<unknown>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempName(path);
  try {
    await write(temp);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** `mode`, when given, is set on the file before it takes its name (0o444 for read-only objects). */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
  return writeAtomically(path, (temp) => writeFile(temp, data, mode === undefined ? {} : { mode }));
}

export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = tempName(path);
  try {
    writeFileSync(temp, data);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
