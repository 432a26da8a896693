import { existsSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tempName, writeFileAtomic } from '../core/atomic.js';
import { FailureError } from '../core/errors.js';
import { onInterrupt } from '../core/interrupt.js';
import { isSafeRelpath, LocalObjectStore, parseManifest } from '../cache/odb.js';
import { md5Text } from '../cache/hash.js';
import { StateStore } from '../cache/state.js';
import { isDirHash } from '../cache/tree.js';
import { settled, statSignature } from '../core/signature.js';
import type { CheckoutReport } from '../pipeline/checkout.js';
import type { Project } from '../project/project.js';
import { objectKey, objectsOnRemote } from './exists.js';
import { KnownObjects } from './known.js';
import { openRemote, type OpenRemote } from './open.js';
import { pool } from './pool.js';
import { withRetries } from './retry.js';
import { ObjectMissingError, RemoteAccessError, RemoteMissingError, RemoteUnreachableError, type Comparison } from './store.js';

// push, fetch, pull and `status -c`: the objects the lock files reference (or the targets' outputs),
// the registered model versions' objects and, when asked, the run-cache, moved between the project's
// cache and a remote in DVC 3's layout (`files/md5/ab/cdef...`, `runs/...`).

export interface Progress {
  readonly objects: number;
  readonly totalObjects: number;
  readonly bytes: number;
  /** Undefined when sizes are not known beforehand (a pull: manifests name no sizes). */
  readonly totalBytes?: number;
}

export interface TransferOptions {
  /** The remote's name (default: `core.remote`). */
  readonly remote?: string;
  /** Stages or pipeline files whose outputs to move (default: every pipeline's, and registered models'). */
  readonly targets?: readonly string[];
  /** Only this pipeline file (`--file`). */
  readonly file?: string;
  /** Transfers at once (default: the remote's `jobs`, else 4 per core). */
  readonly jobs?: number;
  /** Also the run-cache's entries and the objects they name. */
  readonly runCache?: boolean;
  /** Exactly these objects (an experiment's), named `path` in messages, instead of the lock files' outputs and the registered models. */
  readonly objects?: readonly { readonly path: string; readonly md5: string }[];
  readonly onProgress?: (progress: Progress) => void;
}

export interface TransferReport {
  readonly remote: string;
  readonly location: string;
  /** Objects (and run-cache entries) copied, and their bytes. */
  readonly transferred: number;
  readonly bytes: number;
  /** Objects already where they had to go. */
  readonly upToDate: number;
  /** Objects that could not be moved: not in the cache (push), not on the remote or damaged (pull), with why. */
  readonly failed: { object: string; message: string }[];
}

/** An output the lock files record, or a registered version's object. */
interface Wanted {
  readonly path: string;
  readonly md5: string;
  /** The lock file's size of the output (a directory's: all its files'). */
  readonly size?: number;
}

async function wantedObjects(project: Project, options: TransferOptions): Promise<Wanted[]> {
  if (options.objects) return [...options.objects];
  const { lockedOutputs } = await import('../pipeline/repro.js');
  const selection = { cwd: project.cwd, targets: options.targets ?? [], allPipelines: true, ...(options.file === undefined ? {} : { file: project.fromCwd(options.file) }) };
  const wanted: Wanted[] = (await lockedOutputs(project, selection)).map((o) => ({ path: o.path, md5: o.md5, size: o.size }));
  if (!options.targets?.length && options.file === undefined) {
    const { registeredObjects } = await import('../registry/content.js');
    for (const md5 of await registeredObjects(project)) wanted.push({ path: `registry:${md5}`, md5 });
  }
  return wanted;
}

/** What messages call an object: the output (or file of an output) it holds, and its md5. */
class Labels {
  private readonly names = new Map<string, string>();

  constructor(wanted: readonly Wanted[]) {
    for (const w of wanted) this.names.set(w.md5, w.path);
  }

  /** Names the files of a directory output after it. */
  addManifest(md5: string, entries: readonly { md5: string; relpath?: string }[]): void {
    const dir = this.names.get(md5) ?? md5;
    for (const e of entries) if (!this.names.has(e.md5)) this.names.set(e.md5, e.relpath ? `${dir}/${e.relpath}` : dir);
  }

  of(md5: string): string {
    const name = this.names.get(md5);
    return name === undefined || name === md5 ? md5 : `${name} (${md5})`;
  }
}

function localCache(project: Project): LocalObjectStore {
  const cache = project.cache;
  if (!(cache instanceof LocalObjectStore)) throw new Error('push and pull need a local cache');
  return cache;
}

/** Runs `task` on the open remote and closes it after, whatever happens. */
async function onRemote<T>(project: Project, options: TransferOptions, task: (remote: OpenRemote) => Promise<T>): Promise<T> {
  const remote = await openRemote(project, options.remote, options.jobs);
  try {
    return await task(remote);
  } finally {
    await remote.store.close();
  }
}

/** Progress counting for one transfer: objects and bytes done, reported at most ten times a second. */
function meter(options: TransferOptions, totalObjects: number, totalBytes?: number) {
  let objects = 0;
  let bytes = 0;
  let last = 0;
  const report = (force = false) => {
    const now = Date.now();
    if (!options.onProgress || (!force && now - last < 100)) return;
    last = now;
    options.onProgress({ objects, totalObjects, bytes, ...(totalBytes === undefined ? {} : { totalBytes }) });
  };
  return {
    bytes: (n: number) => {
      bytes += n;
      report();
    },
    object: () => {
      objects++;
      report();
    },
    done: () => report(true),
    get total() {
      return { objects, bytes };
    },
  };
}

/** Errors that stop a whole transfer (every object would fail the same way), rather than one object. */
const fatal = (error: unknown) => error instanceof RemoteAccessError || error instanceof RemoteMissingError || error instanceof RemoteUnreachableError;

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** `mlops push`: uploads what the remote lacks, a directory's files before its manifest. */
export async function push(project: Project, options: TransferOptions = {}): Promise<TransferReport> {
  const cache = localCache(project);
  const wanted = await wantedObjects(project, options);
  const runs = options.runCache ? localRunEntries(project.runCacheDir) : [];
  for (const entry of runs) for (const md5 of entry.outs) wanted.push({ path: 'run-cache', md5 });
  return onRemote(project, options, async (remote) => {
    const { store, jobs } = remote;
    const known = KnownObjects.load(project.mlopsDir, store.location);
    const labels = new Labels(wanted);
    const failed: { object: string; message: string }[] = [];
    const dirs = new Map<string, { md5: string }[]>();
    const files = new Set<string>();
    let upToDate = 0;
    for (const md5 of new Set(wanted.map((w) => w.md5))) {
      if (known.has(md5)) {
        upToDate++; // a known manifest vouches for its files
        continue;
      }
      if (!cache.has(md5)) {
        failed.push({ object: labels.of(md5), message: 'not in the local cache' });
        continue;
      }
      if (isDirHash(md5)) {
        dirs.set(md5, cache.readManifest(md5));
        labels.addManifest(md5, dirs.get(md5)!);
      } else files.add(md5);
    }
    // One existence check for the manifests, the single files and the files of every manifest not known
    // to be complete there: a manifest found on the remote does not prove its files are (it may have lost some).
    for (const entries of dirs.values()) for (const e of entries) if (!known.has(e.md5)) files.add(e.md5);
    const { found } = await objectsOnRemote(store, new Set([...dirs.keys(), ...files]), jobs);
    for (const md5 of found) if (!isDirHash(md5)) known.add(md5);
    const upload = [...files].filter((md5) => !known.has(md5) && cache.has(md5));
    for (const md5 of files) if (!cache.has(md5) && !known.has(md5)) failed.push({ object: labels.of(md5), message: 'not in the local cache' });
    const manifests = [...dirs.keys()].filter((md5) => !found.has(md5));
    const sizes = new Map([...upload, ...manifests].map((md5) => [md5, statSync(cache.pathOf(md5)).size]));
    const progress = meter(options, upload.length + manifests.length, [...sizes.values()].reduce((a, b) => a + b, 0));
    const send = async (md5: string) => {
      try {
        await withRetries(() => store.put(objectKey(md5), cache.pathOf(md5), sizes.get(md5)!, progress.bytes));
        known.add(md5);
        progress.object();
        await known.save(false);
      } catch (error) {
        if (fatal(error)) throw error;
        failed.push({ object: labels.of(md5), message: describe(error) });
      }
    };
    try {
      await pool(upload, jobs, send);
      // A manifest goes up only once every file it lists is there: on the remote, a manifest means its files.
      // One already there is known complete only now, its files all checked or sent.
      const complete = (md5: string) => dirs.get(md5)!.every((e) => known.has(e.md5));
      await pool(manifests.filter(complete), jobs, send);
      for (const md5 of dirs.keys()) {
        if (!complete(md5)) failed.push({ object: labels.of(md5), message: 'not pushed: some of its files could not be' });
        else if (found.has(md5)) known.add(md5);
      }
      const sentRuns = await pushRunEntries(project, remote, runs, known, failed);
      progress.done();
      const moved = progress.total.objects + sentRuns;
      return report(remote, moved, progress.total.bytes, upToDate + found.size, failed);
    } finally {
      await known.save();
    }
  });
}

function report(remote: OpenRemote, transferred: number, bytes: number, upToDate: number, failed: TransferReport['failed']): TransferReport {
  return { remote: remote.name, location: remote.store.location, transferred, bytes, upToDate, failed };
}

/** A run-cache entry on disk: its key (`ab/<key>/<value hash>`) and the objects its outputs name. */
interface RunEntry {
  readonly key: string;
  readonly outs: string[];
}

function readRunEntry(text: string): string[] {
  const parsed = JSON.parse(text) as { outs?: { md5?: unknown }[] };
  if (!Array.isArray(parsed.outs)) throw new Error('no outs');
  return parsed.outs.map((o) => o.md5).filter((m): m is string => typeof m === 'string');
}

function localRunEntries(dir: string): RunEntry[] {
  const entries: RunEntry[] = [];
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return [];
  }
  for (const rel of names) {
    const key = rel.split(/[\\/]/).join('/');
    if (!/^[0-9a-f]{2}\/[0-9a-f]{64}\/[0-9a-f]{64}$/.test(key)) continue;
    try {
      entries.push({ key, outs: readRunEntry(readFileSync(join(dir, rel), 'utf8')) });
    } catch {
      // an unreadable entry is not shared
    }
  }
  return entries;
}

const runKey = (key: string) => `runs/${key}`;

async function remoteRunKeys(remote: OpenRemote): Promise<Set<string>> {
  const keys = new Set<string>();
  await withRetries(async () => {
    for await (const key of remote.store.list('runs/')) if (/^runs\/[0-9a-f]{2}\/[0-9a-f]{64}\/[0-9a-f]{64}$/.test(key)) keys.add(key.slice('runs/'.length));
  });
  return keys;
}

/** Run-cache entries go up after the objects they name, and only when those are all on the remote. */
async function pushRunEntries(project: Project, remote: OpenRemote, runs: RunEntry[], known: KnownObjects, failed: TransferReport['failed']): Promise<number> {
  if (!runs.length) return 0;
  const there = await remoteRunKeys(remote);
  const todo = runs.filter((r) => !there.has(r.key) && r.outs.every((md5) => known.has(md5)));
  await pool(todo, remote.jobs, async (r) => {
    const file = join(project.runCacheDir, ...r.key.split('/'));
    await withRetries(() => remote.store.put(runKey(r.key), file, statSync(file).size));
  });
  for (const r of runs) if (!there.has(r.key) && !todo.includes(r)) failed.push({ object: `run-cache ${r.key}`, message: 'not pushed: some of its outputs are not on the remote' });
  return todo.length;
}

const removeAll = (paths: readonly (string | undefined)[]) => Promise.all(paths.map((p) => p && rm(p, { force: true })));

/**
 * Removes `paths` (temp files being written) if Ctrl-C ends the process meanwhile: its handler exits
 * without unwinding the transfer, so their `finally` would not run. Returns the function that stops it.
 */
function removeOnInterrupt(paths: readonly (string | undefined)[]): () => void {
  return onInterrupt(async () => void (await removeAll(paths)));
}

/**
 * Downloads one object into the cache: into a temp file beside its place, hashed as it streams, and
 * renamed only when its md5 is its name. A damaged object never enters the cache. With `workspace` (an
 * output a pull will restore, not there now), a copy for it is written beside the download and offered
 * to the checkout; with `present` (an output there now), the store may compare it with the download,
 * and a file found to hold the object is recorded in the state store, which the checkout reads.
 */
async function download(remote: OpenRemote, cache: LocalObjectStore, md5: string, onBytes: (n: number) => void, made: Set<string>, workspace?: string, present?: { path: string; state: StateStore }): Promise<void> {
  const target = cache.pathOf(md5);
  // Each folder once per fetch (256 of them for thousands of objects), not once per object.
  if (!made.has(dirname(target))) {
    await mkdir(dirname(target), { recursive: true });
    made.add(dirname(target));
  }
  const temp = tempName(target);
  const copy = workspace === undefined ? undefined : tempName(workspace);
  const removeTemps = () => removeAll([temp, copy]);
  const stopWatching = removeOnInterrupt([temp, copy]);
  let attempt = 0;
  let compare: Comparison | undefined;
  let seen: { stat: Stats; at: number } | undefined;
  try {
    const got = await withRetries(async () => {
      if (attempt++) await removeTemps(); // a retried download starts again from nothing
      // the file's stat before it is read: what the state store records the comparison under
      const at = Date.now();
      const stat = present && statSync(present.path, { throwIfNoEntry: false });
      seen = stat ? { stat, at } : undefined;
      compare = stat ? { path: present!.path } : undefined;
      return remote.store.get(objectKey(md5), temp, onBytes, copy, compare);
    });
    if (got !== md5) throw new FailureError(`remote '${remote.name}': object ${objectKey(md5)} is corrupted (its content hashes to ${got}); not used`);
    await rename(temp, target);
    cache.markVerified(md5);
    if (workspace !== undefined && copy !== undefined) cache.offerCopy(workspace, md5, copy);
    if (compare?.same && seen) present!.state.recordRoot(present!.path, statSignature(seen.stat), { md5, size: seen.stat.size }, settled(seen.stat, seen.at));
  } catch (error) {
    await removeTemps();
    // A full disk, a read-only cache: said with the remote and the object, the temp file gone.
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw new FailureError(`remote '${remote.name}': ${objectKey(md5)} could not be written into the cache (${code})`);
    throw error;
  } finally {
    stopWatching();
  }
}

/** A manifest from the remote, checked (hash and entries), kept in memory until its files are in. */
async function fetchManifest(remote: OpenRemote, cache: LocalObjectStore, md5: string): Promise<{ text: string; entries: { md5: string; relpath: string }[] }> {
  const target = cache.pathOf(md5);
  await mkdir(dirname(target), { recursive: true });
  const temp = tempName(target);
  const stopWatching = removeOnInterrupt([temp]);
  try {
    await withRetries(async () => {
      await rm(temp, { force: true });
      return remote.store.get(objectKey(md5), temp);
    });
    const text = await readFile(temp, 'utf8');
    if (`${md5Text(text)}.dir` !== md5) throw new FailureError(`remote '${remote.name}': object ${objectKey(md5)} is corrupted (a manifest that does not hash to its name); not used`);
    return { text, entries: parseManifest(md5, text, `${remote.store.location}/${objectKey(md5)}`) };
  } finally {
    stopWatching();
    await rm(temp, { force: true });
  }
}

/** `mlops fetch`: downloads into the cache what it lacks, verifying every object; the workspace is untouched. */
export function fetch(project: Project, options: TransferOptions = {}): Promise<TransferReport> {
  return fetchObjects(project, options, false);
}

/**
 * The file outputs (not a directory's, not a registered model's) a pull downloads objects for, by
 * object: `copies`, those absent from the workspace (in a folder that exists), whose copy can be written
 * while the object downloads; `present`, those there and not known to hold the object, which the
 * download can be compared with (the checkout compares what was not).
 */
function workspaceFiles(project: Project, wanted: readonly Wanted[], downloading: ReadonlySet<string>, state: StateStore): { copies: Map<string, string>; present: Map<string, string> } {
  const copies = new Map<string, string>();
  const present = new Map<string, string>();
  for (const { path, md5 } of wanted) {
    if (!downloading.has(md5) || copies.has(md5) || present.has(md5) || !isSafeRelpath(path)) continue;
    const abs = join(project.root, path);
    const stat = statSync(abs, { throwIfNoEntry: false });
    if (stat?.isFile()) {
      // One the state store already knows to hold these bytes (its stat unchanged) is left to the
      // checkout, which trusts the same record: reading it again would tell nothing new.
      if (state.lookupRoot(abs, statSignature(stat))?.md5 !== md5) present.set(md5, abs);
    } else if (!stat && existsSync(dirname(abs))) copies.set(md5, abs);
  }
  return { copies, present };
}

async function fetchObjects(project: Project, options: TransferOptions, prepareCheckout: boolean): Promise<TransferReport> {
  const cache = localCache(project);
  const wanted = await wantedObjects(project, options);
  return onRemote(project, options, async (remote) => {
    const known = KnownObjects.load(project.mlopsDir, remote.store.location);
    const failed: TransferReport['failed'] = [];
    const labels = new Labels(wanted);
    let runsFetched = 0;
    if (options.runCache) {
      const got = await fetchRunEntries(project, remote, failed);
      runsFetched = got.count;
      for (const md5 of got.outs) wanted.push({ path: 'run-cache', md5 });
    }
    const manifests = new Map<string, { text: string; entries: { md5: string; relpath: string }[] }>();
    const files = new Set<string>();
    let upToDate = 0;
    const failOne = (md5: string, error: unknown) => {
      if (fatal(error)) throw error;
      if (error instanceof ObjectMissingError) known.forget(md5);
      failed.push({ object: labels.of(md5), message: error instanceof ObjectMissingError ? `not on remote '${remote.name}' (${objectKey(md5)})` : describe(error) });
    };
    const dirs = [...new Set(wanted.map((w) => w.md5))].filter((md5) => {
      if (cache.hasComplete(md5)) {
        upToDate++;
        return false;
      }
      if (!isDirHash(md5)) files.add(md5);
      return isDirHash(md5);
    });
    await pool(dirs, remote.jobs, async (md5) => {
      try {
        const manifest = cache.has(md5) ? { text: '', entries: cache.readManifest(md5) } : await fetchManifest(remote, cache, md5);
        manifests.set(md5, manifest);
        labels.addManifest(md5, manifest.entries);
        for (const e of manifest.entries) if (!cache.has(e.md5)) files.add(e.md5);
      } catch (error) {
        failOne(md5, error);
      }
    });
    // Bytes to come are known when every object is a file output the lock file sizes (a directory's
    // files are not sized one by one): then the bar fills by bytes, not by objects.
    const sizes = new Map(wanted.filter((w) => w.size !== undefined && !isDirHash(w.md5)).map((w) => [w.md5, w.size!]));
    const totalBytes = [...files].every((md5) => sizes.has(md5)) ? [...files].reduce((sum, md5) => sum + sizes.get(md5)!, 0) : undefined;
    const progress = meter(options, files.size, totalBytes);
    const made = new Set<string>();
    // A pull's checkout follows: outputs already in the workspace that hold what comes down are
    // recorded in the state store it reads, so it reads them no more.
    const state = prepareCheckout ? StateStore.load(project.mlopsDir) : undefined;
    const { copies, present } = state ? workspaceFiles(project, wanted, files, state) : { copies: new Map<string, string>(), present: new Map<string, string>() };
    await pool([...files], remote.jobs, async (md5) => {
      try {
        const there = present.get(md5);
        await download(remote, cache, md5, progress.bytes, made, copies.get(md5), there === undefined ? undefined : { path: there, state: state! });
        known.add(md5);
        progress.object();
      } catch (error) {
        failOne(md5, error);
      }
    });
    // A manifest enters the cache after its files, so a present manifest always means a complete directory.
    let manifestBytes = 0;
    for (const [md5, m] of manifests) {
      if (!m.entries.every((e) => cache.has(e.md5))) {
        failed.push({ object: labels.of(md5), message: `not complete: some of its files could not be fetched from remote '${remote.name}'` });
        continue;
      }
      if (m.text) {
        await writeFileAtomic(cache.pathOf(md5), m.text, 0o444);
        manifestBytes += Buffer.byteLength(m.text);
        known.add(md5);
      }
    }
    progress.done();
    await Promise.all([known.save(), state?.save()]);
    const fetchedManifests = [...manifests.values()].filter((m) => m.text).length;
    return report(remote, progress.total.objects + fetchedManifests + runsFetched, progress.total.bytes + manifestBytes, upToDate, failed);
  });
}

/** Run-cache entries the remote has and the cache lacks, written temp-file-and-rename once they parse. */
async function fetchRunEntries(project: Project, remote: OpenRemote, failed: TransferReport['failed']): Promise<{ count: number; outs: string[] }> {
  const local = new Set(localRunEntries(project.runCacheDir).map((r) => r.key));
  const todo = [...(await remoteRunKeys(remote))].filter((key) => !local.has(key));
  const outs: string[] = [];
  let count = 0;
  await pool(todo, remote.jobs, async (key) => {
    const target = join(project.runCacheDir, ...key.split('/'));
    await mkdir(dirname(target), { recursive: true });
    const temp = tempName(target);
    const stopWatching = removeOnInterrupt([temp]);
    try {
      await withRetries(() => remote.store.get(runKey(key), temp));
      outs.push(...readRunEntry(await readFile(temp, 'utf8')));
      await rename(temp, target);
      count++;
    } catch (error) {
      if (fatal(error)) throw error;
      failed.push({ object: `run-cache ${key}`, message: describe(error) });
    } finally {
      stopWatching();
      await rm(temp, { force: true });
    }
  });
  return { count, outs };
}

/** Where an output stands between the cache and the remote (DVC's `status -c` words). */
export type CloudState = 'ok' | 'new' | 'deleted' | 'missing';

export interface CloudStatus {
  readonly remote: string;
  readonly location: string;
  readonly outputs: { path: string; md5: string; status: CloudState }[];
}

/**
 * `mlops status -c`: for every output, whether the cache and the remote have it. As DVC decides it, a
 * directory whose manifest is on the remote counts as there: its files go up before it, so one request
 * answers for ten thousand files, on any size of remote. `allFiles` asks about each file as well, which
 * finds files a remote lost behind its manifest (a deletion by hand) at the cost of a listing.
 * What it finds corrects `.mlops/remotes/`, so a push after it uploads what the remote lost.
 */
export async function cloudStatus(project: Project, options: TransferOptions & { allFiles?: boolean } = {}): Promise<CloudStatus> {
  const cache = localCache(project);
  const wanted = await wantedObjects(project, options);
  // With `allFiles`, a directory stands for its manifest and files; without its manifest here, for the manifest alone.
  const parts = new Map<string, string[]>();
  for (const { md5 } of wanted) {
    if (parts.has(md5)) continue;
    let files: string[] = [];
    if (options.allFiles && isDirHash(md5) && cache.has(md5)) {
      try {
        files = cache.readManifest(md5).map((e) => e.md5);
      } catch {
        // a damaged manifest here: the directory is not complete locally, its manifest is still asked about
      }
    }
    parts.set(md5, [md5, ...files]);
  }
  return onRemote(project, options, async (remote) => {
    const asked = new Set([...parts.values()].flat());
    const { found } = await objectsOnRemote(remote.store, asked, remote.jobs);
    const known = KnownObjects.load(project.mlopsDir, remote.store.location);
    for (const md5 of asked) if (!found.has(md5)) known.forget(md5);
    const there = new Map([...parts].map(([md5, all]) => [md5, all.every((m) => found.has(m))]));
    for (const [md5, complete] of there) if (!complete) known.forget(md5);
    await known.save();
    const byPath = new Map<string, { path: string; md5: string; status: CloudState }>();
    for (const w of wanted) {
      const local = cache.hasComplete(w.md5);
      const remoteHas = there.get(w.md5)!;
      const status: CloudState = local && remoteHas ? 'ok' : local ? 'new' : remoteHas ? 'deleted' : 'missing';
      byPath.set(`${w.path}\0${w.md5}`, { path: w.path, md5: w.md5, status });
    }
    return { remote: remote.name, location: remote.store.location, outputs: [...byPath.values()] };
  });
}

export interface PullReport extends TransferReport {
  readonly checkout: CheckoutReport;
}

/** `mlops pull`: fetch, then restore the outputs in the workspace (`force`: over modified ones). */
export async function pull(project: Project, options: TransferOptions & { force?: boolean } = {}): Promise<PullReport> {
  const cache = localCache(project);
  let fetched: TransferReport;
  let checkout: CheckoutReport;
  // The workspace copies written beside the downloads, until the checkout takes them, on Ctrl-C too.
  const stopWatching = onInterrupt(() => cache.dropCopies());
  try {
    fetched = await fetchObjects(project, options, true);
    const { checkoutOutputs } = await import('../pipeline/repro.js');
    const selection = { cwd: project.cwd, targets: options.targets ?? [], allPipelines: true, singleItem: true, force: options.force, ...(options.file === undefined ? {} : { file: project.fromCwd(options.file) }) };
    checkout = await checkoutOutputs(project, selection, () => {});
  } finally {
    stopWatching();
    await cache.dropCopies();
  }
  // An output whose objects could not be fetched is reported once, by the fetch.
  const unfetched = fetched.failed.map((f) => f.object);
  const failed = checkout.failed.filter((f) => !unfetched.some((o) => o === f.path || o.startsWith(`${f.path} (`) || o.startsWith(`${f.path}/`)));
  return { ...fetched, checkout: { ...checkout, failed } };
}
