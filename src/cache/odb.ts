import { constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, copyFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { removeStaleTemps, staleTempsUnder, writeAtomically, writeFileAtomic } from '../core/atomic.js';
import { ConfigError } from '../core/errors.js';
import { md5File, md5Text } from './hash.js';
import { isDirHash, manifestJson, type Hashed, type KnownCopy } from './tree.js';

/** A cache object whose content no longer matches its name. */
export class CorruptObjectError extends Error {
  constructor(readonly md5: string, readonly objectPath: string) {
    super(`cache object ${md5} is corrupted (${objectPath}); re-run the stage that produced it`);
  }
}

/** A name or manifest path that would lead outside the store or the output (a crafted lock or manifest). */
export class UnsafeObjectError extends ConfigError {}

/** A cache object that is not there. */
export class MissingObjectError extends Error {
  constructor(readonly md5: string) {
    super(`cache object ${md5} is missing`);
  }
}

/**
 * A content-addressed store of file and directory objects: the project's local cache today; a
 * remote (push/pull) is another implementation, not a change to the commands.
 */
export interface ObjectStore {
  has(md5: string): boolean;
  /** True when the object and, for a directory, its manifest and every file in it are present. */
  hasComplete(md5: string): boolean;
  /** Stores the file or directory at `abs`, already hashed as `hashed`. */
  add(abs: string, hashed: Hashed): Promise<void>;
  readManifest(md5: string): { md5: string; relpath: string }[];
  /** Re-hashes an object; throws when it is missing or its content does not match its name. */
  verify(md5: string): Promise<void>;
  /** File object `md5`, when this process has hashed it to its name (a pull's download): a file with its bytes has its md5. */
  verifiedCopy(md5: string): KnownCopy | undefined;
  /** Restores object `md5` at `dest`; returns the files written with their hashes. */
  checkout(md5: string, dest: string): Promise<{ path: string; md5: string }[]>;
  /** Every object name in the store. */
  list(): string[];
  /** Temp files of writers that were killed (absolute paths). */
  staleTemps(): string[];
  remove(md5: string): Promise<void>;
}

/**
 * Content-addressed objects in DVC's layout: `<cache>/files/md5/ab/cdef...`; a directory is stored as its
 * files plus a `.dir` object holding the manifest. Objects are copied in through a temp file and renamed,
 * and made read-only, so a kill at any moment never leaves a truncated object under a valid name.
 */
export class LocalObjectStore implements ObjectStore {
  readonly filesDir: string;
  /**
   * Objects this process has already checked against their name (a pull's downloads are hashed as they
   * stream in): checking out right after need not read them again. Objects are read-only, renamed into
   * place whole, so one that was good a moment ago still is.
   */
  private readonly verified = new Set<string>();
  /**
   * Workspace copies a pull wrote beside its downloads (temp names next to the outputs they are for),
   * by output path: checking out renames one into place instead of copying the object after the download.
   */
  private readonly prepared = new Map<string, { md5: string; temp: string }>();

  constructor(readonly cacheDir: string) {
    this.filesDir = join(cacheDir, 'files', 'md5');
  }

  /** Where object `md5` lives; a name that is not an md5 hash (read from a crafted file) is refused. */
  pathOf(md5: string): string {
    if (!isObjectName(md5)) throw new UnsafeObjectError(`'${String(md5)}' is not a cache object name (an md5 hash)`);
    return join(this.filesDir, md5.slice(0, 2), md5.slice(2));
  }

  has(md5: string): boolean {
    return isObjectName(md5) && existsSync(this.pathOf(md5));
  }

  /** True when the object and, for a directory, its manifest and every file in it are present. */
  hasComplete(md5: string): boolean {
    if (!this.has(md5)) return false;
    if (!isDirHash(md5)) return true;
    try {
      return this.readManifest(md5).every((e) => this.has(e.md5));
    } catch {
      return false;
    }
  }

  /** Stores the file or directory at `abs`, already hashed as `hashed`. */
  async add(abs: string, hashed: Hashed): Promise<void> {
    if (!hashed.entries) return this.addFile(abs, hashed.info.md5);
    for (const e of hashed.entries) await this.addFile(join(abs, ...e.relpath.split('/')), e.md5);
    const manifest = this.pathOf(hashed.info.md5);
    // Read-only like every other object (as DVC makes them), so nothing edits it in place.
    if (!existsSync(manifest)) await writeFileAtomic(manifest, manifestJson(hashed.entries), 0o444);
  }

  private async addFile(abs: string, md5: string): Promise<void> {
    const target = this.pathOf(md5);
    if (existsSync(target)) return;
    await copyInto(abs, target, 0o444);
  }

  readManifest(md5: string): { md5: string; relpath: string }[] {
    return parseManifest(md5, readFileSync(this.pathOf(md5), 'utf8'), this.pathOf(md5));
  }

  /** Re-hashes an object; throws when it is missing or its content does not match its name. */
  async verify(md5: string): Promise<void> {
    const path = this.pathOf(md5);
    if (!existsSync(path)) throw new MissingObjectError(md5);
    if (isDirHash(md5)) {
      this.readManifest(md5);
      return;
    }
    if (this.verified.has(md5)) return;
    if ((await md5File(path)) !== md5) throw new CorruptObjectError(md5, path);
  }

  /** Records that object `md5`, just written, was hashed to its name on its way in. */
  markVerified(md5: string): void {
    this.verified.add(md5);
  }

  /** Records that `temp` holds object `md5`'s bytes, written for `dest` as they were downloaded. */
  offerCopy(dest: string, md5: string, temp: string): void {
    this.prepared.set(dest, { md5, temp });
  }

  /** Removes the prepared copies no checkout took (an output that failed, or one already in place). */
  async dropCopies(): Promise<void> {
    const temps = [...this.prepared.values()].map((p) => p.temp);
    this.prepared.clear();
    await Promise.all(temps.map((t) => rm(t, { force: true })));
  }

  verifiedCopy(md5: string): KnownCopy | undefined {
    return this.verified.has(md5) && !isDirHash(md5) ? { md5, path: this.pathOf(md5) } : undefined;
  }

  /**
   * Restores object `md5` at `dest` (replacing what is there), verifying every object first so a
   * corrupted one is reported and never copied out. Returns the files written with their hashes, so
   * the caller can record them in the state store without reading them again.
   */
  async checkout(md5: string, dest: string): Promise<{ path: string; md5: string }[]> {
    const files = isDirHash(md5)
      ? this.readManifest(md5).map((e) => ({ path: join(dest, ...e.relpath.split('/')), md5: e.md5 }))
      : [{ path: dest, md5 }];
    for (const f of files) await this.verify(f.md5);
    const prepared = this.prepared.get(dest);
    this.prepared.delete(dest);
    await rm(dest, { recursive: true, force: true });
    await removeStaleTemps(dest);
    if (prepared?.md5 === md5) await rename(prepared.temp, dest);
    else {
      if (prepared) await rm(prepared.temp, { force: true });
      for (const f of files) await copyOut(this.pathOf(f.md5), f.path);
    }
    return files;
  }

  staleTemps(): string[] {
    return staleTempsUnder(this.filesDir);
  }

  /** Every object name in the store. */
  list(): string[] {
    if (!existsSync(this.filesDir)) return [];
    const names: string[] = [];
    for (const prefix of readdirSync(this.filesDir)) {
      for (const rest of readdirSync(join(this.filesDir, prefix))) {
        if (!rest.includes('.tmp-')) names.push(prefix + rest);
      }
    }
    return names;
  }

  async remove(md5: string): Promise<void> {
    await rm(this.pathOf(md5), { force: true });
  }
}

/**
 * A `.dir` object's text as its entries, checked: the text must hash to its name (else it is corrupted,
 * at `where`), and, as the name only proves the text was not damaged, not that it was made by us,
 * every entry must name a file object and a path strictly inside the directory.
 */
export function parseManifest(md5: string, text: string, where: string): { md5: string; relpath: string }[] {
  if (`${md5Text(text)}.dir` !== md5) throw new CorruptObjectError(md5, where);
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch {
    throw new UnsafeObjectError(`cache object ${md5} is not JSON`);
  }
  if (!Array.isArray(entries)) throw new UnsafeObjectError(`cache object ${md5} is not a list of files`);
  for (const e of entries as { md5: unknown; relpath: unknown }[]) {
    if (!isObjectName(e?.md5) || isDirHash(e.md5)) throw new UnsafeObjectError(`cache object ${md5} lists a bad object name`);
    if (!isSafeRelpath(e.relpath)) throw new UnsafeObjectError(`cache object ${md5} lists an unsafe path ${JSON.stringify(e.relpath)}`);
  }
  return entries as { md5: string; relpath: string }[];
}

const OBJECT_NAME = /^[0-9a-f]{32}(\.dir)?$/;

function isObjectName(name: unknown): name is string {
  return typeof name === 'string' && OBJECT_NAME.test(name);
}

/** A POSIX path strictly inside a folder: relative, no `.`/`..`/empty segments, no backslash or NUL. */
export function isSafeRelpath(path: unknown): path is string {
  if (typeof path !== 'string' || path === '' || path.startsWith('/') || /[\\\0]/.test(path)) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

// Copy-on-write clone where the file system offers it, a plain copy otherwise; always via a temp name.
function copyInto(src: string, dest: string, mode: number): Promise<void> {
  return writeAtomically(dest, async (temp) => {
    await copyFile(src, temp, constants.COPYFILE_FICLONE);
    await chmod(temp, mode);
  });
}

// Objects are read-only; workspace copies are the user's to edit.
const copyOut = (object: string, dest: string) => copyInto(object, dest, 0o644);
