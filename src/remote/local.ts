import { constants, createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { tempName } from '../core/atomic.js';
import { copyAfter, md5Tap, ObjectMissingError, READ_ONLY, RemoteMissingError, type RemoteStore } from './store.js';

/**
 * A remote in a folder: a shared or mounted one (NFS, SMB) or a local disk. Objects are copied in
 * under a temp name and renamed, so another machine reading the folder never sees half an object,
 * and made read-only as in the cache.
 */
export class FolderRemoteStore implements RemoteStore {
  readonly prefersListing = false;

  constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

  private path(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  /** The folder must exist (created by `remote add`'s user, as with DVC, or by a first push). */
  private checkRoot(creating: boolean): void {
    if (existsSync(this.root)) {
      if (!statSync(this.root).isDirectory()) throw new RemoteMissingError(`${this.root} is not a folder`);
    } else if (!creating) throw new RemoteMissingError(`${this.root} does not exist`);
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.path(key))).isFile();
    } catch {
      return false;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    this.checkRoot(false);
    const walk = async function* (abs: string, rel: string): AsyncIterable<string> {
      let entries;
      try {
        entries = await readdir(abs, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const key = `${rel}${e.name}`;
        if (e.isDirectory()) yield* walk(join(abs, e.name), `${key}/`);
        else if (e.isFile() && !e.name.includes('.tmp-')) yield key;
      }
    };
    yield* walk(this.path(prefix), prefix);
  }

  async put(key: string, file: string, size: number, onBytes?: (n: number) => void): Promise<void> {
    this.checkRoot(true);
    const dest = this.path(key);
    await mkdir(dirname(dest), { recursive: true });
    const temp = tempName(dest);
    try {
      await copyFile(file, temp, constants.COPYFILE_FICLONE);
      await chmod(temp, 0o444);
      await rename(temp, dest);
      onBytes?.(size);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async get(key: string, dest: string, onBytes?: (n: number) => void, copy?: string): Promise<string> {
    const { tap, digest } = md5Tap(onBytes);
    try {
      await pipeline(createReadStream(this.path(key), { highWaterMark: 1 << 20 }), tap, createWriteStream(dest, { mode: READ_ONLY }));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(this.path(key))) throw new ObjectMissingError(`${key} is not on the remote`);
      throw error;
    }
    await copyAfter(dest, copy);
    return digest();
  }

  async close(): Promise<void> {}
}
