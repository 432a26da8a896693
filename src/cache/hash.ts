import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';

// md5, like DVC: lock files and cache objects stay interchangeable with DVC's, and OpenSSL's md5 runs
// at md5sum's speed. Large files are read in big chunks (no stream machinery); small files whole.
const CHUNK = 8 * 1024 * 1024;

export async function md5File(path: string, size = Infinity): Promise<string> {
  if (size <= CHUNK) return md5Text(await readFile(path));
  const hash = createHash('md5');
  const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
  const handle = await open(path, 'r');
  try {
    // Double buffering: the next chunk is read on libuv's thread pool while this one is hashed here,
    // so reading and hashing overlap instead of taking turns (as md5sum's do).
    let current = 0;
    let reading = handle.read(buffers[current]!, 0, CHUNK, null);
    for (;;) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      const full = buffers[current]!;
      current ^= 1;
      reading = handle.read(buffers[current]!, 0, CHUNK, null);
      hash.update(full.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

export function md5Text(data: string | Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}
