import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { DIRECT_ALIGN, pageAligned } from './direct.js';
import type { ToHasher } from './md5-thread.js';

// The thread side of md5-thread.ts: the md5 of files being written by the main thread, read back from
// the file behind the writer's frontier (every byte before it is written), so hashing runs beside the
// download instead of on the thread receiving it. A file written around the page cache (direct.ts)
// is read back the same way: reading it through the cache would fill a gigabyte of fresh
// page cache, the cost the writer avoided. Where O_DIRECT is refused, it reads buffered.

const READ = 4 << 20;
const buffer = pageAligned(READ);
const files = new Map<number, { fd: number; direct: boolean; path: string; size: number; hashed: number; hash: Hash }>();

function openToHash(path: string, direct: boolean): { fd: number; direct: boolean } {
  try {
    if (direct) return { fd: openSync(path, constants.O_RDONLY | constants.O_DIRECT), direct };
  } catch {
    // refused: buffered
  }
  return { fd: openSync(path, 'r'), direct: false };
}

function read(f: { fd: number; direct: boolean; path: string }, length: number, at: number): number {
  if (f.direct) {
    try {
      // A direct read takes a whole number of sectors; past the bytes wanted they are not used.
      return Math.min(length, readSync(f.fd, buffer, 0, Math.ceil(length / DIRECT_ALIGN) * DIRECT_ALIGN, at));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
      closeSync(f.fd); // refused (an unaligned offset, larger sectors): buffered from now on
      f.fd = openSync(f.path, 'r');
      f.direct = false;
    }
  }
  return readSync(f.fd, buffer, 0, length, at);
}

function advance(id: number, frontier: number): void {
  const f = files.get(id);
  if (!f) return; // cancelled
  while (f.hashed < frontier) {
    const n = read(f, Math.min(READ, frontier - f.hashed), f.hashed);
    if (n === 0) throw new Error(`${f.path} ends at ${f.hashed} bytes, before the ${frontier} written`);
    f.hash.update(buffer.subarray(0, n));
    f.hashed += n;
  }
  if (f.hashed < f.size) return;
  drop(id);
  parentPort!.postMessage({ id, digest: f.hash.digest('hex') });
}

function drop(id: number): void {
  const f = files.get(id);
  if (!f) return;
  files.delete(id);
  closeSync(f.fd);
}

parentPort!.on('message', (m: ToHasher) => {
  try {
    if ('path' in m) files.set(m.id, { ...openToHash(m.path, m.direct), path: m.path, size: m.size, hashed: 0, hash: createHash('md5') });
    if ('frontier' in m) advance(m.id, m.frontier);
    if ('cancel' in m) drop(m.id);
  } catch (error) {
    drop(m.id);
    parentPort!.postMessage({ id: m.id, error: (error as Error).message });
  }
});
