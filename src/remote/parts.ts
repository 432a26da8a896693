import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Md5Thread } from './md5-thread.js';
import { pool } from './pool.js';
import { READ_ONLY, WRITABLE } from './store.js';

/** How a download in parts reaches the network: its first part already answered, the others asked for. */
export interface PartSource {
  /** The object's size in bytes. */
  readonly size: number;
  /** Bytes per part; the last part is what is left. */
  readonly partSize: number;
  /** The body of the first part, [0, partSize), already requested. */
  readonly first: Readable;
  /** Requests bytes [start, end) (end exclusive); errors come back as the remote's. */
  fetch(start: number, end: number): Promise<Readable>;
  /** A failure while receiving a body (a dropped connection, a short answer), as the remote's error: transient. */
  networkError(error: unknown): Error;
}

// Writes gather the network's 16-64 KiB pieces into about 1 MiB: a write each would wake a thread-pool
// thread per piece.
const WRITE_BLOCK = 1 << 20;
const HASH_STEP = 4 << 20;

/**
 * Downloads an object in parts, `inFlight` at once, each written at its offset into `dest` (created
 * read-only, as cache objects are), while `hasher` reads the file behind the frontier (the prefix
 * wholly written) on its own thread. Returns the md5 of the bytes written. Memory stays at about one
 * block per part in flight, whatever the size. On a failure, the other parts stop and nothing is left
 * running; `dest` is the caller's to remove. With `copy`, every block is also written there (`get`'s copy).
 */
export async function downloadInParts(dest: string, source: PartSource, inFlight: number, hasher: Md5Thread, onBytes?: (n: number) => void, copy?: string): Promise<string> {
  const { size, partSize } = source;
  const parts = Array.from({ length: Math.ceil(size / partSize) }, (_, i) => ({ start: i * partSize, end: Math.min(size, (i + 1) * partSize), written: 0 }));
  let handle: FileHandle;
  let copyHandle: FileHandle | undefined;
  try {
    handle = await open(dest, 'wx', READ_ONLY);
  } catch (error) {
    source.first.destroy();
    throw error;
  }
  try {
    if (copy !== undefined) copyHandle = await open(copy, 'wx', WRITABLE);
  } catch (error) {
    source.first.destroy();
    await handle.close();
    throw error;
  }
  const hashed = hasher.hash(dest, size);
  const bodies = new Set<Readable>([source.first]);
  let stopped = false;
  let whole = 0; // parts wholly written, from the first
  let frontier = 0;
  const advance = () => {
    while (whole < parts.length && parts[whole]!.written === parts[whole]!.end - parts[whole]!.start) whole++;
    const at = whole < parts.length ? parts[whole]!.start + parts[whole]!.written : size;
    // The hashing thread is woken every few MiB (it reads that much at a time), not on every write.
    if (at - frontier >= HASH_STEP || (at === size && at > frontier)) hashed.advance((frontier = at));
  };
  const receive = async (index: number) => {
    const part = parts[index]!;
    const length = part.end - part.start;
    const body = index === 0 ? source.first : await source.fetch(part.start, part.end);
    bodies.add(body);
    if (stopped) body.destroy();
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let diskError: unknown;
    const flush = async () => {
      try {
        // The copy is written from the same buffers beside the object, so it costs no read of the object.
        const at = part.start + part.written;
        await Promise.all([writeAll(handle, pending, pendingBytes, at), copyHandle && writeAll(copyHandle, pending, pendingBytes, at)]);
      } catch (error) {
        throw (diskError = error);
      }
      part.written += pendingBytes;
      pending = [];
      pendingBytes = 0;
      advance();
    };
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (part.written + pendingBytes + chunk.length > length) throw new Error(`the server sent more than the ${length} bytes asked for at ${part.start}`);
        pending.push(chunk);
        pendingBytes += chunk.length;
        onBytes?.(chunk.length);
        if (pendingBytes >= WRITE_BLOCK) await flush();
      }
      if (pendingBytes) await flush();
      if (part.written < length) throw new Error(`the server sent ${part.written} of the ${length} bytes asked for at ${part.start}`);
    } catch (error) {
      // A full disk is said as such by the caller; anything else came from the network.
      throw error === diskError ? error : source.networkError(error);
    } finally {
      bodies.delete(body);
    }
  };
  try {
    await pool(parts.map((_, i) => i), inFlight, async (index) => {
      try {
        await receive(index);
      } catch (error) {
        // The first failure stops the parts still receiving; pool waits for them to settle.
        if (!stopped) for (const b of bodies) b.destroy();
        stopped = true;
        throw error;
      }
    });
  } catch (error) {
    hashed.cancel();
    throw error;
  } finally {
    for (const b of bodies) b.destroy(); // a first part never started (an error before it) holds a connection
    await Promise.all([handle.close(), copyHandle?.close()]);
  }
  return hashed.digest;
}

/** Writes `buffers` (`bytes` in all) at `position`, finishing a short write. */
async function writeAll(handle: FileHandle, buffers: Buffer[], bytes: number, position: number): Promise<void> {
  const { bytesWritten } = await handle.writev(buffers, position);
  if (bytesWritten === bytes) return;
  const rest = Buffer.concat(buffers, bytes);
  for (let done = bytesWritten; done < bytes; ) done += (await handle.write(rest, done, bytes - done, position + done)).bytesWritten;
}
