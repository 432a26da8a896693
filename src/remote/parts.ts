import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { DirectFile, pageAligned } from './direct.js';
import type { Md5Thread } from './md5-thread.js';
import { pool } from './pool.js';
import { READ_ONLY, WRITABLE, type Comparison } from './store.js';

/** Where received bytes go: `push` copies them (the caller may reuse its buffer at once); false means stop until `drained` settles. */
export interface ByteSink {
  push(bytes: Uint8Array): boolean;
  /** Settles once more bytes are welcome; rejects with the write's error when writing failed. */
  drained(): Promise<void>;
}

/** How a download in parts reaches the network: its first part already answered, the others asked for. */
export interface PartSource {
  /** The object's size in bytes. */
  readonly size: number;
  /** Bytes per part; the last part is what is left. */
  readonly partSize: number;
  /** The body of the first part, [0, partSize), already requested. */
  readonly first: Readable;
  /** Receives bytes [start, end) (end exclusive) into `into`, stopping when `signal` aborts; errors come back as the remote's, or as the sink's. */
  receive(start: number, end: number, into: ByteSink, signal: AbortSignal): Promise<void>;
  /** A failure while receiving a body (a dropped connection, a short answer), as the remote's error: transient. */
  networkError(error: unknown): Error;
}

// Received bytes are copied into blocks of about 1 MiB, reused from one part to the next, and each
// block is one write: a write per network piece (16-64 KiB) would wake a thread-pool thread per piece,
// and keeping the pieces themselves meant a fresh buffer per piece for the allocator and the GC.
const WRITE_BLOCK = 1 << 20;
const HASH_STEP = 4 << 20;

// The blocks start on a page, so the object, the workspace copy and a file compared with them are
// written and read around the page cache on a local disk (direct.ts), and the hashing thread reads the
// object back the same way. Several blocks share one memory, and blocks are reused from one download
// to the next, so a transfer makes only a few.
const BLOCKS_PER_MEMORY = 8;
const spareBlocks: Buffer[] = [];

function takeBlock(): Buffer {
  const spare = spareBlocks.pop();
  if (spare) return spare;
  const memory = pageAligned(BLOCKS_PER_MEMORY * WRITE_BLOCK);
  for (let i = 1; i < BLOCKS_PER_MEMORY; i++) spareBlocks.push(memory.subarray(i * WRITE_BLOCK, (i + 1) * WRITE_BLOCK));
  return memory.subarray(0, WRITE_BLOCK);
}

/** Feeds a body into a sink, at most `length` bytes; destroys the body when `signal` aborts. */
export async function pump(body: Readable, into: ByteSink, length: number, signal: AbortSignal): Promise<void> {
  const stop = () => body.destroy(signal.reason as Error);
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  let received = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > length) throw new Error(`the server sent more than the ${length} bytes asked for`);
      if (!into.push(chunk)) await into.drained();
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

/**
 * One part's bytes on their way to disk: copied into blocks, the blocks written in order at the part's
 * offsets (one write at a time, so `written` is always a prefix), and `done` called after each;
 * `onBytes` hears of every piece as it arrives (a progress bar).
 * Welcomes more while at most one full block waits for the write in progress.
 */
class PartWriter implements ByteSink {
  private block: Buffer | undefined;
  private filled = 0;
  /** Bytes handed to writes so far, from the part's start. */
  private handed = 0;
  private waiting = 0;
  private writes: Promise<void> = Promise.resolve();
  /** The write's failure (a full disk): every later call rejects with it. */
  failure: unknown;
  private wake?: () => void;

  constructor(
    private readonly start: number,
    private readonly write: (bytes: Buffer, at: number) => Promise<void>,
    private readonly done: (bytes: number) => void,
    private readonly onBytes?: (n: number) => void,
  ) {}

  push(bytes: Uint8Array): boolean {
    this.onBytes?.(bytes.length);
    for (let offset = 0; offset < bytes.length; ) {
      this.block ??= takeBlock();
      const n = Math.min(bytes.length - offset, WRITE_BLOCK - this.filled);
      this.block.set(bytes.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === WRITE_BLOCK) this.hand();
    }
    return this.waiting < 2 && this.failure === undefined;
  }

  drained(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.waiting < 2) return Promise.resolve();
    return new Promise<void>((resolve) => (this.wake = resolve)).then(() => this.drained());
  }

  /** Writes what is left; resolves once every byte is written, or rejects with the write's failure. */
  async finish(): Promise<void> {
    if (this.filled) this.hand();
    else if (this.block) spareBlocks.push(this.block);
    this.block = undefined;
    await this.writes;
    if (this.failure !== undefined) throw this.failure;
  }

  private hand(): void {
    const block = this.block!;
    const bytes = this.filled;
    const at = this.start + this.handed;
    this.block = undefined;
    this.filled = 0;
    this.handed += bytes;
    this.waiting++;
    this.writes = this.writes.then(async () => {
      try {
        if (this.failure === undefined) {
          await this.write(block.subarray(0, bytes), at);
          this.done(bytes);
        }
      } catch (error) {
        this.failure = error;
      } finally {
        spareBlocks.push(block);
        this.waiting--;
        const wake = this.wake;
        this.wake = undefined;
        wake?.();
      }
    });
  }
}

/**
 * Downloads an object in parts, `inFlight` at once, each written at its offset into `dest` (created
 * read-only, as cache objects are), while `hasher` reads the file behind the frontier (the prefix
 * wholly written) on its own thread. Returns the md5 of the bytes written. Memory stays at a few
 * blocks per part in flight, whatever the size. On a failure, the other parts stop and nothing is left
 * running; `dest` is the caller's to remove. With `copy`, every block is also written there (`get`'s copy);
 * with `compare`, the same range of that file is read beside each block and compared with it.
 */
export async function downloadInParts(dest: string, source: PartSource, inFlight: number, hasher: Md5Thread, onBytes?: (n: number) => void, copy?: string, compare?: Comparison): Promise<string> {
  const { size, partSize } = source;
  const parts = Array.from({ length: Math.ceil(size / partSize) }, (_, i) => ({ start: i * partSize, end: Math.min(size, (i + 1) * partSize), written: 0 }));
  let object: DirectFile;
  let copyFile: DirectFile | undefined;
  try {
    object = await DirectFile.create(dest, READ_ONLY);
  } catch (error) {
    source.first.destroy();
    throw error;
  }
  try {
    if (copy !== undefined) copyFile = await DirectFile.create(copy, WRITABLE);
  } catch (error) {
    source.first.destroy();
    await object.close();
    throw error;
  }
  const against = compare && (await openToCompare(compare.path, size));
  const hashed = hasher.hash(dest, size, object.isDirect);
  const stop = new AbortController();
  let whole = 0; // parts wholly written, from the first
  let frontier = 0;
  const advance = () => {
    while (whole < parts.length && parts[whole]!.written === parts[whole]!.end - parts[whole]!.start) whole++;
    const at = whole < parts.length ? parts[whole]!.start + parts[whole]!.written : size;
    // The hashing thread is woken every few MiB (it reads that much at a time), not on every write.
    if (at - frontier >= HASH_STEP || (at === size && at > frontier)) hashed.advance((frontier = at));
  };
  // One write into a file at a time, whichever part it is from: writes into one file take its lock in
  // turn anyway, and thread-pool threads waiting on it spin, burning CPU the hashing thread needs.
  const inTurn = (writeAt: (bytes: Buffer, at: number) => Promise<void>) => {
    let last: Promise<unknown> = Promise.resolve();
    return (bytes: Buffer, at: number) => {
      const written = last.then(() => writeAt(bytes, at));
      last = written.catch(() => {});
      return written;
    };
  };
  const writeTo = (file: DirectFile) => inTurn((bytes, at) => file.run(bytes.length, at, (handle) => writeAll(handle, bytes, at)));
  const writeObject = writeTo(object);
  const writeCopy = copyFile && writeTo(copyFile);
  // The copy is written from the same block beside the object, so it costs no read of the object.
  const write = async (bytes: Buffer, at: number) => {
    await Promise.all([writeObject(bytes, at), writeCopy?.(bytes, at), against?.check(bytes, at)]);
  };
  const receive = async (index: number) => {
    const part = parts[index]!;
    const length = part.end - part.start;
    const writer = new PartWriter(
      part.start,
      write,
      (bytes) => {
        part.written += bytes;
        advance();
      },
      onBytes,
    );
    try {
      if (index === 0) await pump(source.first, writer, length, stop.signal);
      else await source.receive(part.start, part.end, writer, stop.signal);
      await writer.finish();
      if (part.written < length) throw new Error(`the server sent ${part.written} of the ${length} bytes asked for at ${part.start}`);
    } catch (error) {
      // A full disk is said as such by the caller; anything else came from the network.
      if (writer.failure !== undefined) throw writer.failure;
      throw source.networkError(error);
    }
  };
  try {
    await pool(parts.map((_, i) => i), inFlight, async (index) => {
      try {
        await receive(index);
      } catch (error) {
        // The first failure stops the parts still receiving; pool waits for them to settle.
        stop.abort(error);
        throw error;
      }
    });
  } catch (error) {
    hashed.cancel();
    throw error;
  } finally {
    source.first.destroy(); // a first part never started (an error before it) holds a connection
    await Promise.all([object.close(), copyFile?.close(), against?.close()]);
  }
  if (compare) compare.same = against?.same() ?? false;
  return hashed.digest;
}

/**
 * The file at `path` opened to be compared block by block with a download of `size` bytes; undefined
 * when it cannot be the same (another size, unreadable). Reading errors only make it "not the same".
 */
async function openToCompare(path: string, size: number) {
  let file: DirectFile;
  try {
    file = await DirectFile.read(path);
  } catch {
    return undefined;
  }
  try {
    if ((await file.handle.stat()).size !== size) throw new Error('another size');
  } catch {
    await file.close();
    return undefined;
  }
  let differs = false;
  return {
    async check(bytes: Buffer, at: number): Promise<void> {
      if (differs) return;
      const into = takeBlock();
      try {
        const { bytesRead } = await file.run(bytes.length, at, (handle) => handle.read(into, 0, bytes.length, at));
        if (bytesRead !== bytes.length || !into.subarray(0, bytesRead).equals(bytes)) differs = true;
      } catch {
        differs = true;
      } finally {
        spareBlocks.push(into);
      }
    },
    same: () => !differs,
    close: () => file.close(),
  };
}

/** Writes `bytes` at `position`, finishing a short write. */
async function writeAll(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) done += (await handle.write(bytes, done, bytes.length - done, position + done)).bytesWritten;
}
