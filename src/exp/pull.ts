import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { md5File, md5Text } from '../cache/hash.js';
import { LocalObjectStore } from '../cache/odb.js';
import { manifestJson } from '../cache/tree.js';
import { FailureError, UsageError } from '../core/errors.js';
import type { Project } from '../project/project.js';
import type { TransferReport } from '../remote/sync.js';
import type { Run } from '../tracking/store.js';
import { applyRun, savedDir, savedFiles, type ApplyOptions, type ApplyResult, type SavedFile } from './apply.js';
import { SAVED_OBJECT_TAG } from './record.js';
import { experimentRuns, findExperiment } from './runs.js';

// An experiment between machines. Its record keeps what `exp apply` writes back (params files, lock
// file, uncached outputs) among the run's artifacts, which another machine may not reach: a database
// tracking store keeps artifacts beside the clone that ran it. So a queue worker with a default remote
// also puts that folder on the remote, as a directory object the run is tagged with (`share`), and
// `exp pull` on any clone takes it from the artifacts when it reaches them, else from the remote, then
// fetches the cached outputs its lock file names and restores them, as `exp apply` then `mlops pull`.

/** Puts run `runId`'s saved workspace on the remote (`remote`, else the default) and tags the run with its object; returns the object. */
export async function shareExperiment(project: Project, runId: string, remote?: string): Promise<string> {
  const { store } = await project.tracking();
  const run = await store.getRun(runId);
  const dir = savedDir(run);
  const entries = await Promise.all(
    (await savedFiles(dir, run)).map(async (relpath) => {
      const file = join(dir, relpath);
      return { relpath, md5: await md5File(file), size: (await stat(file)).size };
    }),
  );
  const md5 = `${md5Text(manifestJson(entries))}.dir`;
  await project.cache.add(dir, { info: { md5, size: entries.reduce((a, e) => a + e.size, 0), nfiles: entries.length }, entries });
  const { push } = await import('../remote/sync.js');
  const pushed = await push(project, { objects: [{ path: `experiment ${run.info.run_name}`, md5 }], ...(remote === undefined ? {} : { remote }) });
  failIfAny('push', pushed);
  await store.setTags(runId, { [SAVED_OBJECT_TAG]: md5 });
  return md5;
}

export interface PullOptions extends ApplyOptions {
  /** The remote (default: `core.remote`). */
  readonly remote?: string;
  /** Transfers at once. */
  readonly jobs?: number;
}

export interface PullResult extends ApplyResult {
  /** Where the record's files came from: the run's artifacts on this machine, or the remote. */
  readonly source: 'artifacts' | 'remote';
  /** The fetch of the outputs the experiment's lock file names. */
  readonly fetched: TransferReport;
}

/** `exp pull`: the experiment's params files, lock file and uncached outputs, then its cached outputs from the remote. */
export async function pullExperiment(project: Project, ref: string, options: PullOptions): Promise<PullResult> {
  const run = findExperiment(await experimentRuns(project), ref);
  const [sync, { lockedOutputs }] = await Promise.all([import('../remote/sync.js'), import('../pipeline/repro.js')]);
  const transfer = { ...(options.remote === undefined ? {} : { remote: options.remote }), ...(options.jobs === undefined ? {} : { jobs: options.jobs }) };
  const { files, source } = await recordFiles(project, run, (objects) => sync.fetch(project, { ...transfer, objects }));
  let fetched: TransferReport | undefined;
  const applied = await applyRun(project, run, files, {
    ...options,
    beforeCheckout: async () => {
      const selection = { cwd: project.cwd, targets: [], allPipelines: true, ...(options.file === undefined ? {} : { file: project.fromCwd(options.file) }) };
      const outputs = await lockedOutputs(project, selection);
      fetched = await sync.fetch(project, { ...transfer, objects: outputs.map((o) => ({ path: o.path, md5: o.md5 })) });
    },
  });
  // An output whose object could not be fetched is reported once, by the fetch.
  const unfetched = fetched!.failed.map((f) => f.object);
  const failed = applied.checkout.failed.filter((f) => !unfetched.some((o) => o === f.path || o.startsWith(`${f.path} (`)));
  return { ...applied, checkout: { ...applied.checkout, failed }, source, fetched: fetched! };
}

/** The record's saved files: from the run's artifacts when this machine reaches them, else from the remote. */
async function recordFiles(
  project: Project,
  run: Run,
  fetch: (objects: { path: string; md5: string }[]) => Promise<TransferReport>,
): Promise<{ files: SavedFile[]; source: PullResult['source'] }> {
  const dir = savedDir(run);
  if (existsSync(dir)) return { files: (await savedFiles(dir, run)).map((rel) => ({ rel, from: join(dir, rel) })), source: 'artifacts' };
  const md5 = run.tags[SAVED_OBJECT_TAG];
  const what = `experiment '${run.info.run_name}' (${run.info.run_id})`;
  if (md5 === undefined) {
    throw new UsageError(`${what}: its record's files (${dir}) are not on this machine, and it was not shared on a remote (a queue worker with a default remote shares what it runs)`);
  }
  failIfAny('fetch', await fetch([{ path: `experiment ${run.info.run_name}`, md5 }]));
  const cache = new LocalObjectStore(project.cacheDir);
  return { files: cache.readManifest(md5).map((e) => ({ rel: e.relpath, from: cache.pathOf(e.md5) })), source: 'remote' };
}

function failIfAny(verb: 'push' | 'fetch', report: TransferReport): void {
  const first = report.failed[0];
  if (first) throw new FailureError(`${verb} (remote '${report.remote}'): ${first.object}: ${first.message}`);
}
