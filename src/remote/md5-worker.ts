import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { ToHasher } from './md5-thread.js';

// The thread side of md5-thread.ts: the md5 of files being written by the main thread, read back from
// the file behind the writer's frontier (every byte before it is written), so hashing runs beside the
// download instead of on the thread receiving it. Reading back what was just written (the page cache)
// costs far less than the hashing it moves off that thread.

const READ = 4 << 20;
const buffer = Buffer.allocUnsafe(READ);
const files = new Map<number, { fd: number; path: string; size: number; hashed: number; hash: Hash }>();

function advance(id: number, frontier: number): void {
  const f = files.get(id);
  if (!f) return; // cancelled
  while (f.hashed < frontier) {
    const n = readSync(f.fd, buffer, 0, Math.min(READ, frontier - f.hashed), f.hashed);
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
    if ('path' in m) files.set(m.id, { fd: openSync(m.path, 'r'), path: m.path, size: m.size, hashed: 0, hash: createHash('md5') });
    if ('frontier' in m) advance(m.id, m.frontier);
    if ('cancel' in m) drop(m.id);
  } catch (error) {
    drop(m.id);
    parentPort!.postMessage({ id: m.id, error: (error as Error).message });
  }
});
