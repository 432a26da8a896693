import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { FailureError, MlopsError } from '../core/errors.js';

/**
 * A remote seen as keys and files: `files/md5/ab/cdef...`, `runs/...`. Each backend (an S3 bucket, a
 * shared folder) implements this; the DVC layout, existence checks, retries and parallelism are built
 * on top once (src/remote/sync.ts), and every backend passes one contract suite.
 */
export interface RemoteStore {
  /** What messages call it: `s3://bucket/prefix`, or the folder. */
  readonly location: string;
  /**
   * True when listing a prefix is cheaper than asking for objects one by one (an object store);
   * false when a per-object check is as cheap as it gets (a folder), as DVC's local remote does.
   */
  readonly prefersListing: boolean;
  /** True when the key holds an object (HEAD, stat). */
  exists(key: string): Promise<boolean>;
  /** Every key below `prefix` (a folder-like prefix ending in `/`), relative to the remote's root. */
  list(prefix: string): AsyncIterable<string>;
  /** Stores the file at `key`; the object is only visible under its name once it is complete. */
  put(key: string, file: string, size: number, onBytes?: (n: number) => void): Promise<void>;
  /**
   * Writes the object at `key` into `dest` (a fresh temp path the caller owns), created read-only as
   * cache objects are, and returns the md5 of the bytes written, computed while they stream in, so they
   * are verified without a second read. With `copy`, the same bytes also go to that path (created
   * writable, for a workspace): a pull's checkout then renames it into place instead of copying the
   * object after the download. The caller owns and removes it as it does `dest`. With `compare`, a
   * store may read that file beside the download and say whether it holds the same bytes.
   */
  get(key: string, dest: string, onBytes?: (n: number) => void, copy?: string, compare?: Comparison): Promise<string>;
  /** Releases connections. */
  close(): Promise<void>;
}

/**
 * A file a `get` compares with what it brings (an output already in the workspace): `same` is set when
 * the store compared it, read by range beside the download, so the checkout need not read it and the
 * object again. Left unset, the checkout compares them itself.
 */
export interface Comparison {
  readonly path: string;
  same?: boolean;
}

/** The mode `get` creates files with: cache objects are read-only. */
export const READ_ONLY = 0o444;

/** The mode of `get`'s `copy`: a workspace file is the user's to edit. */
export const WRITABLE = 0o644;

/** `get`'s `copy` made after the object is written (an object small enough that overlapping is moot). */
export async function copyAfter(dest: string, copy: string | undefined): Promise<void> {
  if (copy === undefined) return;
  await copyFile(dest, copy, constants.COPYFILE_EXCL);
  await chmod(copy, WRITABLE);
}

/** A remote failure that retrying may cure: a dropped connection, a timeout, a 5xx, throttling. */
export class TransientRemoteError extends FailureError {}

/** The remote cannot be reached at all (after retries): exit 1, one line. */
export class RemoteUnreachableError extends FailureError {}

/** The server refused us (403: wrong credentials, no permission): a configuration problem, exit 2. */
export class RemoteAccessError extends MlopsError {
  constructor(message: string) {
    super(message, 'invalid');
  }
}

/** The bucket or folder the remote names does not exist: a configuration problem, exit 2. */
export class RemoteMissingError extends MlopsError {
  constructor(message: string) {
    super(message, 'invalid');
  }
}

/** An object asked for is not on the remote. */
export class ObjectMissingError extends FailureError {}

// What the tap hands on at once: the network delivers 16-64 KiB pieces, and a write each would wake a
// thread-pool thread per piece (on a busy machine, a context switch each); a few large writes do not.
const WRITE_BLOCK = 1 << 20;

/**
 * A pass-through stream that hashes (md5) and counts what flows through it, for `get`, and hands it on
 * in blocks of about 1 MiB (memory stays at one block per transfer).
 */
export function md5Tap(onBytes?: (n: number) => void): { tap: Transform; digest: () => string } {
  const hash = createHash('md5');
  let pending: Buffer[] = [];
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      onBytes?.(chunk.length);
      pending.push(chunk);
      size += chunk.length;
      if (size < WRITE_BLOCK) return done();
      const block = Buffer.concat(pending, size);
      pending = [];
      size = 0;
      done(null, block);
    },
    flush(done) {
      done(null, size ? Buffer.concat(pending, size) : null);
    },
  });
  return { tap, digest: () => hash.digest('hex') };
}
