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

/**
 * True when the files at `a` and `b` hold the same bytes. Reading both and comparing costs a fraction of
 * hashing one (memcmp against md5), so a file can be matched against a verified cache object this way.
 */
export async function sameBytes(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const [sa, sb] = await Promise.all([ha.stat(), hb.stat()]);
    if (sa.size !== sb.size) return false;
    const [ba, bb] = [Buffer.allocUnsafe(Math.min(CHUNK, sa.size)), Buffer.allocUnsafe(Math.min(CHUNK, sa.size))];
    for (let at = 0; at < sa.size; ) {
      const n = Math.min(CHUNK, sa.size - at);
      const [ra, rb] = await Promise.all([ha.read(ba, 0, n, at), hb.read(bb, 0, n, at)]);
      if (ra.bytesRead !== n || rb.bytesRead !== n) return false; // one changed size meanwhile
      if (!ba.subarray(0, n).equals(bb.subarray(0, n))) return false;
      at += n;
    }
    return true;
  } finally {
    await Promise.all([ha.close(), hb.close()]);
  }
}

export function md5Text(data: string | Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}
