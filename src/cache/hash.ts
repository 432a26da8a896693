import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';

// md5, like DVC: lock files and cache objects stay interchangeable with DVC's, and OpenSSL's md5 runs
// at md5sum's speed. Large files are read with one big buffer per call (no stream machinery), which
// keeps throughput at the hash's own limit; small files are read whole.
const CHUNK = 8 * 1024 * 1024;

export async function md5File(path: string, size = Infinity): Promise<string> {
  if (size <= CHUNK) return md5Text(await readFile(path));
  const hash = createHash('md5');
  const buffer = Buffer.allocUnsafe(CHUNK);
  const handle = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

export function md5Text(data: string | Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}
