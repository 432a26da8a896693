import { createHash, randomUUID } from 'node:crypto';
import { existsSync, lstatSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../core/atomic.js';
import { checkArtifactPath, copyArtifactOut, storeArtifact } from './artifact-objects.js';
import { withFileLock } from '../core/file-lock.js';
import { ConflictError, NotFoundError, UsageError } from '../core/errors.js';
import { displayPath } from '../core/display.js';
import { DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME } from './config.js';
import { isValidExperimentId, validateMetric, validateParams, validateRunId, validateTags } from './keys.js';
import { emitMeta } from './meta-yaml.js';
import { appendLines, formatMetricLine } from './metric-file.js';
import { LazyRun } from './run-reader.js';
import { searchRunFolders } from './search.js';
import * as files from './run-files.js';
import { StoreFileError } from './run-files.js';
import {
  compareExperiments, runPreconditions, statusToInt,
  type ArtifactFile, type CreateRunOptions, type ExperimentOptions, type Experiment, type Metric, type Run, type RunInfo, type RunStatus,
  type SearchRunsQuery, type SearchRunsResult, type TrackingStore, type ViewType,
} from './store.js';

/** Beside meta.yaml while it is rewritten; MLflow ignores other files in a run folder. */
const META_LOCK_FILE = 'meta.yaml.lock';

/**
 * MLflow's local folder store (`mlruns/`), file for file: experiments are folders holding meta.yaml and
 * tags/, runs are folders holding meta.yaml, params/, metrics/, tags/ and artifacts/. Reads never create
 * anything; the first write creates the root with the Default experiment, as MLflow does.
 */
export class FileStore implements TrackingStore {
  private readonly runDirs = new Map<string, { dir: string; experimentId: string }>();

  /**
   * `objectsDir`: where artifacts are kept once per content (see artifact-objects.ts), outside the
   * tracking folder so that it keeps MLflow's exact layout; without it, artifacts are plain copies.
   */
  constructor(
    readonly root: string,
    private readonly objectsDir?: string,
  ) {}

  /** Every run's artifacts are inside the tracking folder. */
  get artifactRoot(): string {
    return this.root;
  }

  // ---- experiments

  async getOrCreateExperiment(name: string, options: ExperimentOptions = {}): Promise<string> {
    if (name === '') throw new UsageError('an experiment name must not be empty');
    await this.ensureRoot();
    const existing = await this.getExperimentByName(name);
    if (existing) return existing.experiment_id;
    const deleted = (await this.listExperiments('deleted')).find((e) => e.name === name);
    if (deleted) throw new ConflictError(`experiment '${name}' exists in ${displayPath(join(this.root, files.TRASH_DIR))} (deleted); restore it or remove it first`);
    const id = this.newExperimentId(name);
    await this.writeExperimentMeta(id, name, options.creationTime);
    return id;
  }

  /**
   * MLflow gives a new experiment a random 63-bit integer id. We derive those 63 bits from the name, so
   * processes that create the same experiment at once converge on one folder instead of several; only
   * if that id is taken by another name (a 2^-63 chance) does a random one serve.
   */
  private newExperimentId(name: string): string {
    if (name === DEFAULT_EXPERIMENT_NAME && !existsSync(join(this.root, DEFAULT_EXPERIMENT_ID))) return DEFAULT_EXPERIMENT_ID;
    const bits = (hex: string) => (BigInt(`0x${hex.slice(0, 16)}`) & ((1n << 63n) - 1n)).toString();
    const id = bits(createHash('sha256').update(name).digest('hex'));
    const holder = files.readMetaFile(join(this.root, id, files.META_FILE));
    return holder === undefined || holder.name === name ? id : bits(randomUUID().replace(/-/g, ''));
  }

  private async writeExperimentMeta(id: string, name: string, creationTime?: number): Promise<void> {
    const now = creationTime ?? Date.now();
    await writeFileAtomic(
      join(this.root, id, files.META_FILE),
      emitMeta({
        artifact_location: pathToFileURL(join(this.root, id)).href,
        creation_time: now,
        experiment_id: id,
        last_update_time: now,
        lifecycle_stage: 'active',
        name,
      }),
    );
  }

  private async ensureRoot(): Promise<void> {
    if (existsSync(this.root)) return;
    await mkdir(join(this.root, files.TRASH_DIR), { recursive: true });
    await this.writeExperimentMeta(DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME);
  }

  async setExperimentTags(experimentId: string, tags: Record<string, string>): Promise<void> {
    const experiment = await this.getExperiment(experimentId);
    validateTags(tags);
    const dir = this.experimentDir(experimentId, experiment.lifecycle_stage);
    for (const [key, value] of Object.entries(tags)) await writeFileAtomic(join(dir, files.TAGS_DIR, key), value);
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    for (const view of ['active', 'deleted'] as const) {
      const found = this.readExperiment(this.experimentDir(experimentId, view), experimentId);
      if (found) return found;
    }
    throw new NotFoundError(`no experiment with id '${experimentId}' in ${displayPath(this.root)}`);
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    return (await this.listExperiments('active')).find((e) => e.name === name);
  }

  async listExperiments(view: ViewType = 'active'): Promise<Experiment[]> {
    const out: Experiment[] = [];
    for (const { id, dir } of this.experimentDirs(view)) {
      const experiment = this.readExperiment(dir, id);
      if (experiment) out.push(experiment);
    }
    return out.sort(compareExperiments);
  }


  private experimentDir(id: string, view: 'active' | 'deleted'): string {
    return view === 'active' ? join(this.root, id) : join(this.root, files.TRASH_DIR, id);
  }

  private experimentDirs(view: ViewType): { id: string; dir: string }[] {
    const out: { id: string; dir: string }[] = [];
    if (view !== 'deleted') {
      for (const id of files.listSubdirs(this.root)) if (!files.NOT_EXPERIMENTS.has(id)) out.push({ id, dir: join(this.root, id) });
    }
    if (view !== 'active') {
      for (const id of files.listSubdirs(join(this.root, files.TRASH_DIR))) out.push({ id, dir: join(this.root, files.TRASH_DIR, id) });
    }
    return out;
  }

  private readExperiment(dir: string, id: string): Experiment | undefined {
    if (!isValidExperimentId(id)) return undefined;
    const path = join(dir, files.META_FILE);
    const meta = files.readMetaFile(path);
    if (!meta) return undefined;
    const metaId = String(meta.experiment_id);
    if (metaId !== id) throw new StoreFileError(path, `experiment_id '${metaId}' does not match the folder name '${id}'`);
    if (typeof meta.name !== 'string' && typeof meta.name !== 'number') throw new StoreFileError(path, "'name' is missing");
    const time = (v: unknown) => (typeof v === 'number' ? v : null);
    return {
      experiment_id: id,
      name: String(meta.name),
      artifact_location: String(meta.artifact_location ?? ''),
      lifecycle_stage: meta.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
      creation_time: time(meta.creation_time),
      last_update_time: time(meta.last_update_time),
      tags: Object.fromEntries(files.readKeyFiles(join(dir, files.TAGS_DIR))),
    };
  }

  // ---- runs: writing

  async createRun(options: CreateRunOptions): Promise<RunInfo> {
    const { experiment, tags, runId } = await runPreconditions(this, options);
    if (options.runId !== undefined && this.findRun(runId)) throw new ConflictError(`run '${runId}' already exists in ${displayPath(this.root)}`);
    const dir = join(this.root, options.experimentId, runId);
    const info: RunInfo = {
      run_id: runId,
      run_name: options.runName,
      experiment_id: options.experimentId,
      user_id: options.userId,
      status: 'RUNNING',
      start_time: options.startTime ?? Date.now(),
      end_time: null,
      lifecycle_stage: 'active',
      artifact_uri: `${experiment.artifact_location}/${runId}/${files.ARTIFACTS_DIR}`,
    };
    for (const sub of [files.METRICS_DIR, files.PARAMS_DIR, files.ARTIFACTS_DIR]) await mkdir(join(dir, sub), { recursive: true });
    for (const [key, value] of Object.entries(tags)) await writeFileAtomic(join(dir, files.TAGS_DIR, key), value);
    // meta.yaml last: until it exists, readers skip the folder as a run still being created.
    await this.writeRunMeta(dir, info, null);
    this.runDirs.set(runId, { dir, experimentId: options.experimentId });
    return info;
  }

  private async writeRunMeta(dir: string, info: RunInfo, deletedTime: number | null): Promise<void> {
    await writeFileAtomic(
      join(dir, files.META_FILE),
      emitMeta({
        artifact_uri: info.artifact_uri,
        deleted_time: deletedTime,
        end_time: info.end_time,
        entry_point_name: '',
        experiment_id: info.experiment_id,
        lifecycle_stage: info.lifecycle_stage,
        run_id: info.run_id,
        run_name: info.run_name,
        run_uuid: info.run_id,
        source_name: '',
        source_type: 4, // LOCAL
        source_version: '',
        start_time: info.start_time,
        status: statusToInt(info.status),
        tags: [],
        user_id: info.user_id,
      }),
    );
  }

  /**
   * A read-modify-write of meta.yaml under a per-run lock, so that two processes (a run ending while
   * `runs delete` marks it) never lose each other's change; deleted_time is kept unless given.
   */
  private async updateRunInfo(runId: string, change: (info: RunInfo) => Partial<RunInfo>, deletedTime?: number): Promise<void> {
    const { dir } = this.lazyRun(runId);
    await withFileLock(join(dir, META_LOCK_FILE), async () => {
      const run = this.lazyRun(runId); // read again, inside the lock
      const info = this.readInfo(run);
      const previous = files.readMetaFile(join(dir, files.META_FILE))?.deleted_time;
      await this.writeRunMeta(dir, { ...info, ...change(info) }, deletedTime ?? (typeof previous === 'number' ? previous : null));
    });
  }

  async logParams(runId: string, params: Record<string, string>): Promise<void> {
    const run = this.lazyRun(runId);
    const entries = Object.entries(params);
    validateParams(params);
    for (const [key, value] of entries) checkParamUnchanged(run, key, value);
    for (const [key, value] of entries) {
      const created = await files.createExclusive(join(run.dir, files.PARAMS_DIR, key), value);
      // Another process may have logged it between our check and our write: the file decides.
      if (!created) checkParamUnchanged(new LazyRun(run.dir, run.runId, run.experimentId), key, value);
    }
  }

  async logMetrics(runId: string, metrics: readonly Metric[]): Promise<void> {
    const run = this.lazyRun(runId);
    const lines = new Map<string, string>();
    for (const m of metrics) {
      validateMetric(m);
      lines.set(m.key, (lines.get(m.key) ?? '') + formatMetricLine(m));
    }
    for (const [key, text] of lines) {
      const path = join(run.dir, files.METRICS_DIR, key);
      await mkdir(dirname(path), { recursive: true });
      await appendLines(path, text);
    }
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    const run = this.lazyRun(runId);
    validateTags(tags);
    for (const [key, value] of Object.entries(tags)) await writeFileAtomic(join(run.dir, files.TAGS_DIR, key), value);
    // MLflow keeps meta.yaml's run_name in step with the mlflow.runName tag.
    const name = tags['mlflow.runName'];
    if (name !== undefined) await this.updateRunInfo(runId, () => ({ run_name: name }));
  }

  async logArtifact(runId: string, localPath: string, artifactPath = ''): Promise<void> {
    const run = this.lazyRun(runId);
    const target = checkArtifactPath(artifactPath);
    if (!existsSync(localPath)) throw new NotFoundError(`artifact '${displayPath(localPath)}' not found`);
    await storeArtifact(this.objectsDir, localPath, join(run.dir, files.ARTIFACTS_DIR, target, basename(localPath)));
  }

  async listArtifacts(runId: string): Promise<ArtifactFile[]> {
    return files.listFiles(join(this.lazyRun(runId).dir, files.ARTIFACTS_DIR));
  }

  async downloadArtifact(runId: string, path: string, localPath: string): Promise<void> {
    await copyArtifactOut(runId, join(this.lazyRun(runId).dir, files.ARTIFACTS_DIR), path, localPath);
  }

  async setStatus(runId: string, status: RunStatus, endTime: number | null = null): Promise<void> {
    await this.updateRunInfo(runId, () => ({ status, end_time: endTime }));
  }

  /** MLflow's soft delete: lifecycle_stage `deleted` and a deleted_time; the files stay until gc. */
  async deleteRun(runId: string): Promise<void> {
    await this.updateRunInfo(runId, (info) => {
      if (info.lifecycle_stage === 'deleted') throw new ConflictError(`run '${runId}' is already deleted`);
      return { lifecycle_stage: 'deleted' };
    }, Date.now());
  }

  // ---- runs: reading

  async getRun(runId: string): Promise<Run> {
    return this.lazyRun(runId).toRun();
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    return this.lazyRun(runId).history(key);
  }

  async searchRuns(query: SearchRunsQuery): Promise<SearchRunsResult> {
    const all = this.experimentDirs('all');
    const folders = query.experimentIds.flatMap((experimentId) => {
      const experimentDir = all.find((e) => e.id === experimentId)?.dir;
      if (!experimentDir) return [];
      return files.listSubdirs(experimentDir)
        .filter((name) => !files.NOT_RUNS.has(name))
        .map((name) => new LazyRun(join(experimentDir, name), name, experimentId));
    });
    return searchRunFolders(folders, query);
  }

  async runVersions(experimentId: string): Promise<Map<string, string>> {
    const experimentDir = this.experimentDirs('all').find((e) => e.id === experimentId)?.dir;
    const ids = experimentDir ? files.listSubdirs(experimentDir).filter((name) => !files.NOT_RUNS.has(name)) : [];
    const versions = new Map<string, string>();
    // meta.yaml is replaced by a rename, and a new param, tag or metric file is a new entry in its
    // folder: the four folders' mtimes. Synchronous stats (a third of the CPU of promises) in slices
    // of 100 runs with a turn of the event loop between them, so a check of 10,000 runs never holds it.
    const mtime = (path: string) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    for (let i = 0; i < ids.length; i += 100) {
      if (i) await new Promise((resolve) => setImmediate(resolve));
      for (const id of ids.slice(i, i + 100)) {
        const dir = join(experimentDir!, id);
        versions.set(id, [dir, join(dir, files.PARAMS_DIR), join(dir, files.TAGS_DIR), join(dir, files.METRICS_DIR)].map(mtime).join(':'));
      }
    }
    return versions;
  }

  private lazyRun(runId: string): LazyRun {
    validateRunId(runId);
    const place = this.findRun(runId);
    if (!place) throw new NotFoundError(`no run with id '${runId}' in ${displayPath(this.root)}`);
    return new LazyRun(place.dir, runId, place.experimentId);
  }

  private findRun(runId: string): { dir: string; experimentId: string } | undefined {
    let place = this.runDirs.get(runId);
    if (!place) {
      // A run folder is a real folder: a symlink in mlruns/ is not followed (delete would write through it).
      const found = this.experimentDirs('all').find(({ dir }) => lstatSync(join(dir, runId), { throwIfNoEntry: false })?.isDirectory() && existsSync(join(dir, runId, files.META_FILE)));
      if (!found) return undefined;
      place = { dir: join(found.dir, runId), experimentId: found.id };
      this.runDirs.set(runId, place);
    }
    return place;
  }

  private readInfo(run: LazyRun): RunInfo {
    const info = run.info();
    if (!info) throw new NotFoundError(`no run with id '${run.runId}' in ${displayPath(this.root)}`);
    return info;
  }
}

function checkParamUnchanged(run: LazyRun, key: string, value: string): void {
  const current = run.param(key);
  if (current !== undefined && current !== value) {
    throw new ConflictError(`param '${key}' of run ${run.runId} was logged as '${current}'; a param cannot change (logged again as '${value}')`);
  }
}
