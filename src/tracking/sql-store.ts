import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { insideOf } from '../core/files.js';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, ConflictError, NotFoundError, UsageError } from '../core/errors.js';
import { displayPath } from '../core/display.js';
import { placeholders, type Database, type Queryable, type SqlValue } from '../sql/database.js';
import { downloadBucketArtifact, listBucketArtifacts, runPrefix, uploadArtifact, type ArtifactBucket } from './artifact-bucket.js';
import { checkArtifactPath, copyArtifactOut, storeArtifact } from './artifact-objects.js';
import { listFiles } from './run-files.js';
import { DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME } from './config.js';
import { validateMetric, validateParams, validateRunId, validateTags } from './keys.js';
import { latestMetric } from './metric-file.js';
import { filteredKeys, keyTable, RUN_COLUMNS, searchRunsSql, sqlExperimentIds, type KeyedEntity } from './sql-search.js';
import {
  compareExperiments, runPreconditions, RUN_STATUSES,
  type ArtifactFile, type CreateRunOptions, type Experiment, type ExperimentOptions, type Metric, type Run, type RunInfo, type RunStatus,
  type SearchRunsQuery, type SearchRunsResult, type TrackingStore, type ViewType,
} from './store.js';

// The tracking store in MLflow's own tables (see src/sql/mlflow-schema.ts), on SQLite or PostgreSQL,
// written as MLflow's SqlAlchemyStore writes them, so `mlflow ui` and `mlflow server` read it directly:
// integer experiment ids, 32-hex run ids, NaN as 0 with is_nan, infinities as the largest doubles,
// latest_metrics kept to the max of (step, timestamp, value). Every change is one transaction; the
// statements that race between processes (latest_metrics, params) are written to be safe under them.
// Artifacts go to the artifact root (MLflow's --default-artifact-root), a folder or an S3 bucket and
// prefix (see artifact-bucket.ts), as `<root>/<experiment id>/<run id>/artifacts`.

const MAX_DOUBLE = 1.7976931348623157e308;
// Rows per multi-row INSERT and ids per IN list: well inside both databases' placeholder limits.
const CHUNK = 500;
// A key on at least this share of its table's rows is searched by reading the table whole (SQLite):
// in order, a row costs about a tenth of an index probe and the random read of its row.
const SCAN_SHARE = 1 / 10;

interface RunRow {
  run_uuid: string;
  name: string | null;
  experiment_id: number;
  user_id: string | null;
  status: string | null;
  start_time: number | null;
  end_time: number | null;
  lifecycle_stage: string | null;
  artifact_uri: string | null;
}

interface ExperimentRow {
  experiment_id: number;
  name: string;
  artifact_location: string | null;
  lifecycle_stage: string | null;
  creation_time: number | null;
  last_update_time: number | null;
}

interface KeyValueRow {
  run_uuid: string;
  key: string;
  value: string;
}

interface MetricRow {
  run_uuid: string;
  key: string;
  value: number;
  timestamp: number;
  step: number;
  is_nan: boolean | number;
}

/** A metric value as MLflow stores it: NaN as 0 (is_nan set), infinities as the largest doubles. */
function stored(value: number): { value: number; isNan: boolean } {
  if (Number.isNaN(value)) return { value: 0, isNan: true };
  if (value === Infinity) return { value: MAX_DOUBLE, isNan: false };
  if (value === -Infinity) return { value: -MAX_DOUBLE, isNan: false };
  return { value, isNan: false };
}

/** A stored metric value read back: the largest doubles are the infinities they stand for, so a copy between stores keeps them. */
function metricValue(row: { value: number; is_nan: boolean | number }): number {
  if (row.is_nan) return NaN;
  const value = Number(row.value);
  return Math.abs(value) === MAX_DOUBLE ? Math.sign(value) * Infinity : value;
}

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function toRunInfo(row: RunRow): RunInfo {
  const status = RUN_STATUSES.find((s) => s === row.status) ?? 'RUNNING';
  return {
    run_id: row.run_uuid,
    run_name: row.name ?? '',
    experiment_id: String(row.experiment_id),
    user_id: row.user_id ?? '',
    status,
    start_time: row.start_time ?? 0,
    end_time: row.end_time ?? null,
    lifecycle_stage: row.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
    artifact_uri: row.artifact_uri ?? '',
  };
}

export interface SqlTrackingStoreOptions {
  /** The artifact root: an absolute folder (unless `artifactBucket` is given). */
  readonly artifactRoot: string;
  /** An S3 artifact root instead of the folder: artifacts go to that bucket and prefix. */
  readonly artifactBucket?: ArtifactBucket;
  /** Where artifacts are kept once per content (see artifact-objects.ts); without it, plain copies. */
  readonly objectsDir?: string;
}

export class SqlTrackingStore implements TrackingStore {
  readonly artifactRoot: string;
  private readonly objectsDir?: string;
  private readonly bucket?: ArtifactBucket;

  private constructor(
    private readonly db: Database,
    options: SqlTrackingStoreOptions,
  ) {
    this.bucket = options.artifactBucket;
    this.artifactRoot = this.bucket?.location ?? options.artifactRoot;
    this.objectsDir = options.objectsDir;
  }

  /** The store on an open database holding MLflow's schema; creates the Default experiment as MLflow does. */
  static async open(db: Database, options: SqlTrackingStoreOptions): Promise<SqlTrackingStore> {
    const store = new SqlTrackingStore(db, options);
    const now = Date.now();
    // Concurrent first opens all try; the primary key lets one in.
    await db.run(
      `INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
       SELECT ?, ?, ?, 'active', ?, ? WHERE NOT EXISTS (SELECT 1 FROM experiments) ON CONFLICT DO NOTHING`,
      [Number(DEFAULT_EXPERIMENT_ID), DEFAULT_EXPERIMENT_NAME, store.experimentLocation(DEFAULT_EXPERIMENT_ID), now, now],
    );
    return store;
  }

  get shown(): string {
    return this.db.shown;
  }

  async close(): Promise<void> {
    await this.bucket?.close();
    await this.db.close();
  }

  private experimentLocation(id: string | number): string {
    return this.bucket ? `${this.bucket.location}/${id}` : pathToFileURL(join(this.artifactRoot, String(id))).href;
  }

  // ---- experiments

  async getOrCreateExperiment(name: string, options: ExperimentOptions = {}): Promise<string> {
    if (name === '') throw new UsageError('an experiment name must not be empty');
    return this.db.transaction(async (tx) => {
      const [existing] = await tx.query<ExperimentRow>('SELECT experiment_id, lifecycle_stage FROM experiments WHERE name = ?', [name]);
      if (existing) {
        if (existing.lifecycle_stage === 'deleted') throw new ConflictError(`experiment '${name}' is deleted in ${this.db.shown}; restore it or remove it first`);
        return String(existing.experiment_id);
      }
      const now = options.creationTime ?? Date.now();
      // Another process may create it meanwhile: its row wins, and this one reads it.
      const [created] = await tx.query<{ experiment_id: number }>(
        "INSERT INTO experiments (name, lifecycle_stage, creation_time, last_update_time) VALUES (?, 'active', ?, ?) ON CONFLICT (name) DO NOTHING RETURNING experiment_id",
        [name, now, now],
      );
      if (!created) {
        const [theirs] = await tx.query<ExperimentRow>('SELECT experiment_id FROM experiments WHERE name = ?', [name]);
        return String(theirs!.experiment_id);
      }
      const id = created.experiment_id;
      await tx.run('UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?', [this.experimentLocation(id), id]);
      return String(id);
    });
  }

  async setExperimentTags(experimentId: string, tags: Record<string, string>): Promise<void> {
    validateTags(tags);
    const id = Number((await this.getExperiment(experimentId)).experiment_id);
    await this.db.transaction(async (tx) => {
      for (const part of chunks(Object.entries(tags))) {
        await tx.run(
          `INSERT INTO experiment_tags (key, value, experiment_id) VALUES ${part.map(() => '(?, ?, ?)').join(', ')} ON CONFLICT (key, experiment_id) DO UPDATE SET value = excluded.value`,
          part.flatMap(([key, value]) => [key, value, id]),
        );
      }
    });
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const [id] = sqlExperimentIds([experimentId]);
    const found = id === undefined ? [] : await this.experiments('WHERE experiment_id = ?', [id]);
    if (!found[0]) throw new NotFoundError(`no experiment with id '${experimentId}' in ${this.db.shown}`);
    return found[0];
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    return (await this.experiments("WHERE name = ? AND lifecycle_stage = 'active'", [name]))[0];
  }

  async listExperiments(view: ViewType = 'active'): Promise<Experiment[]> {
    const found = view === 'all' ? await this.experiments('', []) : await this.experiments('WHERE lifecycle_stage = ?', [view]);
    return found.sort(compareExperiments);
  }

  private async experiments(where: string, params: SqlValue[]): Promise<Experiment[]> {
    const rows = await this.db.query<ExperimentRow>(
      `SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time FROM experiments ${where}`,
      params,
    );
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.experiment_id);
    const tags = await this.db.query<{ experiment_id: number; key: string; value: string | null }>(
      `SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN (${placeholders(ids.length)})`,
      ids,
    );
    return rows.map((r) => ({
      experiment_id: String(r.experiment_id),
      name: r.name,
      artifact_location: r.artifact_location ?? '',
      lifecycle_stage: r.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
      creation_time: r.creation_time ?? null,
      last_update_time: r.last_update_time ?? null,
      tags: Object.fromEntries(tags.filter((t) => t.experiment_id === r.experiment_id).map((t) => [t.key, t.value ?? ''])),
    }));
  }

  // ---- runs: writing

  async createRun(options: CreateRunOptions): Promise<RunInfo> {
    const { experiment, tags, runId } = await runPreconditions(this, options);
    const info: RunInfo = {
      run_id: runId,
      run_name: options.runName,
      experiment_id: experiment.experiment_id,
      user_id: options.userId,
      status: 'RUNNING',
      start_time: options.startTime ?? Date.now(),
      end_time: null,
      lifecycle_stage: 'active',
      artifact_uri: `${experiment.artifact_location}/${runId}/artifacts`,
    };
    await this.db.transaction(async (tx) => {
      if (options.runId !== undefined && (await tx.query('SELECT 1 FROM runs WHERE run_uuid = ?', [runId])).length > 0) {
        throw new ConflictError(`run '${runId}' already exists in ${this.db.shown}`);
      }
      await tx.run(
        `INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time,
           source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time)
         VALUES (?, ?, 'UNKNOWN', '', '', ?, 'RUNNING', ?, NULL, '', 'active', ?, ?, NULL)`,
        [runId, info.run_name, info.user_id, info.start_time, info.artifact_uri, Number(info.experiment_id)],
      );
      await this.upsertTags(tx, runId, tags);
    });
    return info;
  }

  /** The run's lifecycle stage; not-found when there is no such run. */
  private async stage(q: Queryable, runId: string): Promise<string> {
    validateRunId(runId);
    const [row] = await q.query<{ lifecycle_stage: string }>('SELECT lifecycle_stage FROM runs WHERE run_uuid = ?', [runId]);
    if (!row) throw new NotFoundError(`no run with id '${runId}' in ${this.db.shown}`);
    return row.lifecycle_stage;
  }

  async logParams(runId: string, params: Record<string, string>): Promise<void> {
    validateParams(params);
    const entries = Object.entries(params);
    await this.db.transaction(async (tx) => {
      await this.stage(tx, runId);
      for (const part of chunks(entries)) {
        await tx.run(
          `INSERT INTO params (key, value, run_uuid) VALUES ${part.map(() => '(?, ?, ?)').join(', ')} ON CONFLICT DO NOTHING`,
          part.flatMap(([key, value]) => [key, value, runId]),
        );
        // Read back after writing: a value another process logged first (committed or not) decides.
        const rows = await tx.query<KeyValueRow>(`SELECT key, value FROM params WHERE run_uuid = ? AND key IN (${placeholders(part.length)})`, [runId, ...part.map(([key]) => key)]);
        for (const row of rows) {
          if (row.value !== params[row.key]) {
            throw new ConflictError(`param '${row.key}' of run ${runId} was logged as '${row.value}'; a param cannot change (logged again as '${params[row.key]}')`);
          }
        }
      }
    });
  }

  async logMetrics(runId: string, metrics: readonly Metric[]): Promise<void> {
    for (const m of metrics) validateMetric(m);
    const points = metrics.map((m) => ({ ...m, ...stored(m.value) }));
    // The batch's own latest point per key; latest_metrics takes it only if it beats the one there.
    const latest = new Map<string, (typeof points)[number]>();
    for (const p of points) {
      const best = latest.get(p.key);
      if (!best || latestMetric([best, p]) === p) latest.set(p.key, p);
    }
    await this.db.transaction(async (tx) => {
      await this.stage(tx, runId);
      for (const part of chunks(points)) {
        await tx.run(
          `INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')} ON CONFLICT DO NOTHING`,
          part.flatMap((p) => [p.key, p.value, p.timestamp, p.step, p.isNan, runId]),
        );
      }
      for (const p of latest.values()) {
        // One statement, atomic under concurrent writers on both databases.
        await tx.run(
          `INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (key, run_uuid) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan
           WHERE (excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)`,
          [p.key, p.value, p.timestamp, p.step, p.isNan, runId],
        );
      }
    });
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    validateTags(tags);
    await this.db.transaction(async (tx) => {
      await this.stage(tx, runId);
      await this.upsertTags(tx, runId, tags);
    });
  }

  private async upsertTags(tx: Queryable, runId: string, tags: Record<string, string>): Promise<void> {
    for (const part of chunks(Object.entries(tags))) {
      await tx.run(
        `INSERT INTO tags (key, value, run_uuid) VALUES ${part.map(() => '(?, ?, ?)').join(', ')} ON CONFLICT (key, run_uuid) DO UPDATE SET value = excluded.value`,
        part.flatMap(([key, value]) => [key, value, runId]),
      );
    }
    // MLflow keeps the run's name in step with the mlflow.runName tag.
    const name = tags['mlflow.runName'];
    if (name !== undefined) await tx.run('UPDATE runs SET name = ? WHERE run_uuid = ?', [name, runId]);
  }

  async logArtifact(runId: string, localPath: string, artifactPath = ''): Promise<void> {
    const { info } = await this.getRun(runId);
    const target = checkArtifactPath(artifactPath);
    if (!existsSync(localPath)) throw new NotFoundError(`artifact '${displayPath(localPath)}' not found`);
    if (this.bucket) return uploadArtifact(this.bucket, this.bucketPrefix(info), localPath, target);
    const dir = this.artifactDir(info);
    await storeArtifact(this.objectsDir, localPath, join(dir, target, basename(localPath)));
  }

  async listArtifacts(runId: string): Promise<ArtifactFile[]> {
    const { info } = await this.getRun(runId);
    if (this.bucket) return listBucketArtifacts(this.bucket, this.bucketPrefix(info));
    return listFiles(this.artifactDir(info));
  }

  async downloadArtifact(runId: string, path: string, localPath: string): Promise<void> {
    const { info } = await this.getRun(runId);
    if (this.bucket) return downloadBucketArtifact(this.bucket, runId, this.bucketPrefix(info), path, localPath);
    await copyArtifactOut(runId, this.artifactDir(info), path, localPath);
  }

  /**
   * A run whose artifact_uri lies outside this machine's artifact root: most often a database shared by
   * several machines, each with its own default root (the experiment's location is the first one's).
   */
  private outsideRoot(info: RunInfo): ConfigError {
    const root = this.bucket ? this.artifactRoot : displayPath(this.artifactRoot);
    return new ConfigError(
      `run ${info.run_id}: its artifact location '${info.artifact_uri}' is not inside the artifact root ${root} (mlops writes artifacts only there); ` +
        'a tracking database several machines share needs an artifact root they all reach: mlops config tracking.artifact_root s3://bucket/prefix (or a folder every machine mounts)',
    );
  }

  /** The run's artifacts' key prefix in the bucket: its artifact_uri must lie below the artifact root. */
  private bucketPrefix(info: RunInfo): string {
    const prefix = runPrefix(this.bucket!, info.artifact_uri);
    if (prefix === undefined) throw this.outsideRoot(info);
    return prefix;
  }

  /** The run's artifact folder: its artifact_uri, which must be a folder inside the artifact root. */
  private artifactDir(info: RunInfo): string {
    const outside = () => this.outsideRoot(info);
    if (!info.artifact_uri.startsWith('file:')) throw outside();
    const dir = fileURLToPath(info.artifact_uri);
    const inside = insideOf(this.artifactRoot, dir);
    if (!inside) throw outside();
    return dir;
  }

  async setStatus(runId: string, status: RunStatus, endTime: number | null = null): Promise<void> {
    validateRunId(runId);
    const changed = await this.db.run('UPDATE runs SET status = ?, end_time = ? WHERE run_uuid = ?', [status, endTime, runId]);
    if (changed === 0) throw new NotFoundError(`no run with id '${runId}' in ${this.db.shown}`);
  }

  /** MLflow's soft delete: lifecycle_stage `deleted` and a deleted_time; the rows stay. */
  async deleteRun(runId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      if ((await this.stage(tx, runId)) === 'deleted') throw new ConflictError(`run '${runId}' is already deleted`);
      await tx.run("UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_uuid = ?", [Date.now(), runId]);
    });
  }

  // ---- runs: reading

  async getRun(runId: string): Promise<Run> {
    validateRunId(runId);
    const rows = await this.db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.run_uuid = ?`, [runId]);
    if (rows.length === 0) throw new NotFoundError(`no run with id '${runId}' in ${this.db.shown}`);
    return (await this.withData(rows))[0]!;
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    await this.stage(this.db, runId);
    const rows = await this.db.query<MetricRow>('SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp, value', [runId, key]);
    return rows.map((r) => ({ key: r.key, value: metricValue(r), timestamp: Number(r.timestamp), step: Number(r.step) }));
  }

  /** From the runs table alone (one read of it): a param, tag or metric logged to an ended run leaves it unchanged. */
  async runVersions(experimentId: string): Promise<Map<string, string>> {
    const ids = sqlExperimentIds([experimentId]);
    if (!ids.length) return new Map();
    const rows = await this.db.query<RunRow>('SELECT run_uuid, name, status, start_time, end_time, lifecycle_stage FROM runs WHERE experiment_id = ?', ids);
    return new Map(rows.map((r) => [r.run_uuid, [r.name, r.status, r.start_time, r.end_time, r.lifecycle_stage].join('\u0000')]));
  }

  async searchRuns(query: SearchRunsQuery): Promise<SearchRunsResult> {
    const scanned = this.db.dialect === 'sqlite' ? await this.commonKeys(filteredKeys(query)) : new Set<string>();
    const { sql, params } = searchRunsSql(query, this.db.dialect, (e) => scanned.has(`${e.kind}\0${e.key}`));
    return { runs: await this.withData(await this.db.query<RunRow>(sql, params)), skipped: [] };
  }

  /**
   * The keys (`kind\0key`) on at least SCAN_SHARE of their table's rows, which SQLite is to read by
   * scanning the table (see sql-search.ts). Counted through the primary key's index, which holds the
   * keys, and only as far as the share: a few milliseconds at 100,000 runs. Rowids only grow (rows are
   * rarely deleted), so the largest is a close upper bound of the row count, read from the index's end.
   */
  private async commonKeys(keys: readonly KeyedEntity[]): Promise<Set<string>> {
    const common = new Set<string>();
    for (const entity of keys) {
      const table = keyTable(entity.kind);
      const [bound] = await this.db.query<{ rows: number | null }>(`SELECT max(rowid) AS rows FROM ${table}`);
      const share = Math.ceil((bound?.rows ?? 0) * SCAN_SHARE);
      const [counted] = await this.db.query<{ n: number }>(`SELECT count(*) AS n FROM (SELECT 1 FROM ${table} WHERE key = ? LIMIT ?)`, [entity.key, share]);
      if (counted!.n >= share) common.add(`${entity.kind}\0${entity.key}`);
    }
    return common;
  }

  /** Runs with their params, tags and latest metrics, read in a few statements for all of them. */
  private async withData(rows: readonly RunRow[]): Promise<Run[]> {
    const runs = new Map<string, Run>(rows.map((r) => [r.run_uuid, { info: toRunInfo(r), params: {}, metrics: {}, tags: {} }]));
    for (const ids of chunks([...runs.keys()])) {
      const inList = `run_uuid IN (${placeholders(ids.length)})`;
      for (const p of await this.db.query<KeyValueRow>(`SELECT run_uuid, key, value FROM params WHERE ${inList}`, ids)) runs.get(p.run_uuid)!.params[p.key] = p.value;
      for (const t of await this.db.query<KeyValueRow>(`SELECT run_uuid, key, value FROM tags WHERE ${inList}`, ids)) runs.get(t.run_uuid)!.tags[t.key] = t.value ?? '';
      for (const m of await this.db.query<MetricRow>(`SELECT run_uuid, key, value, is_nan FROM latest_metrics WHERE ${inList}`, ids)) {
        runs.get(m.run_uuid)!.metrics[m.key] = metricValue(m);
      }
    }
    for (const run of runs.values()) if (!run.info.run_name && run.tags['mlflow.runName']) run.info.run_name = run.tags['mlflow.runName'];
    return [...runs.values()];
  }
}
