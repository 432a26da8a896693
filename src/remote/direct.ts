import { constants } from 'node:fs';
import { open, statfs, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

// I/O around the page cache (O_DIRECT) for big downloads. On the virtual machines measured, each page
// of page cache the host had taken back cost far more than the copy into it: `dd` of 1 GiB took
// 2.2-3.5 s of system time through the cache, 0.12 s direct, and a pull writes two such files (the
// object and the workspace copy) where `aws s3 cp` writes one.

/** O_DIRECT takes only buffers, offsets and lengths that are whole sectors (4 KiB covers every disk). */
export const DIRECT_ALIGN = 4096;

// Local disk file systems (statfs magic numbers), where O_DIRECT means "to the disk, not the page
// cache". On a network file system it would mean a round trip per write and reading the file back
// from the server, so anywhere else files go through the page cache.
const DIRECT_FILE_SYSTEMS = new Set([0xef53 /* ext2/3/4 */, 0x58465342 /* xfs */, 0x9123683e /* btrfs */]);

// Node's types here (lib ES2023, no DOM) do not declare WebAssembly.
const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (size: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly;
const WASM_PAGE = 64 * 1024;

/**
 * A zeroed buffer of `bytes` (rounded up to 64 KiB) that starts on a memory page, as O_DIRECT needs: a
 * WebAssembly memory's buffer is mapped on its own, where Buffer.allocUnsafe's may start anywhere.
 * With no address space left for another memory, a plain buffer: direct I/O from it is refused
 * (EINVAL) and DirectFile, or the hashing thread, goes through the page cache instead.
 */
export function pageAligned(bytes: number): Buffer {
  const size = Math.ceil(bytes / WASM_PAGE);
  try {
    return Buffer.from(new wasm.Memory({ initial: size }).buffer);
  } catch {
    return Buffer.alloc(size * WASM_PAGE);
  }
}

/**
 * A file opened twice: through the page cache, and around it where its file system takes O_DIRECT.
 * Aligned blocks go the direct way; an unaligned one (a file's tail) and everything after a refusal
 * go through the cache, so callers need not know which way a block went.
 */
export class DirectFile {
  private direct: FileHandle | undefined;

  private constructor(
    private readonly buffered: FileHandle,
    private readonly directHandle: FileHandle | undefined,
  ) {
    this.direct = directHandle;
  }

  /** Creates `path` (exclusive) with `mode`, to be written. */
  static create(path: string, mode: number): Promise<DirectFile> {
    return DirectFile.open(path, () => open(path, 'wx', mode), constants.O_WRONLY);
  }

  /** Opens the existing file at `path` to be read. */
  static read(path: string): Promise<DirectFile> {
    return DirectFile.open(path, () => open(path, 'r'), constants.O_RDONLY);
  }

  private static async open(path: string, buffered: () => Promise<FileHandle>, flags: number): Promise<DirectFile> {
    const handle = await buffered();
    let direct: FileHandle | undefined;
    try {
      if (DIRECT_FILE_SYSTEMS.has((await statfs(dirname(path))).type)) direct = await open(path, flags | constants.O_DIRECT);
    } catch {
      // no O_DIRECT here (or no statfs): through the page cache
    }
    return new DirectFile(handle, direct);
  }

  /** Whether aligned blocks go around the page cache. */
  get isDirect(): boolean {
    return this.direct !== undefined;
  }

  /** The file's handle through the page cache. */
  get handle(): FileHandle {
    return this.buffered;
  }

  /** Runs `io` (a read or write of `length` bytes at `at`) on the direct handle when it can take it, else on the buffered one. */
  async run<T>(length: number, at: number, io: (file: FileHandle) => Promise<T>): Promise<T> {
    if (this.direct && length % DIRECT_ALIGN === 0 && at % DIRECT_ALIGN === 0) {
      try {
        return await io(this.direct);
      } catch (error) {
        // Refused as unaligned (an unaligned buffer, a device with larger sectors): buffered from now on.
        // The handle stays open until close(): another read may still be using it.
        if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
        this.direct = undefined;
      }
    }
    return io(this.buffered);
  }

  async close(): Promise<void> {
    await Promise.all([this.buffered.close(), this.directHandle?.close()]);
  }
}
