import { join } from 'node:path';
import type { AttributeName, RunFields } from './filter.js';
import { keyProblem } from './keys.js';
import { latestMetric, parseMetricLines } from './metric-file.js';
import { META_FILE, METRICS_DIR, PARAMS_DIR, readIfExists, readKeyFiles, readMetaFile, StoreFileError, TAGS_DIR } from './run-files.js';
import { statusFromInt, type Metric, type Run, type RunInfo } from './store.js';

/** The run's meta.yaml checked against the rules MLflow's reader applies; throws StoreFileError. */
export function parseRunInfo(runDir: string, runId: string, experimentId: string): RunInfo | undefined {
  const path = join(runDir, META_FILE);
  const meta = readMetaFile(path);
  if (meta === undefined) return undefined; // being created: MLflow skips such folders too
  const fail = (reason: string): never => {
    throw new StoreFileError(path, reason);
  };
  const text = (key: string, required: boolean): string => {
    const value = meta[key];
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return String(value); // legacy integer ids, names PyYAML read as ints
    if (value === undefined || value === null) return required ? fail(`'${key}' is missing`) : '';
    return fail(`'${key}' must be a string`);
  };
  const time = (key: string, required: boolean): number | null => {
    const value = meta[key];
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if ((value === undefined || value === null) && !required) return null;
    return fail(`'${key}' must be an integer (epoch milliseconds)`);
  };
  const id = text('run_id', false) || text('run_uuid', true);
  if (id !== runId) fail(`run_id '${id}' does not match the folder name '${runId}'`);
  const expId = text('experiment_id', true);
  if (expId !== experimentId) fail(`experiment_id '${expId}' does not match the experiment folder '${experimentId}'`);
  const statusValue = meta.status ?? 1;
  const status = typeof statusValue === 'number' ? statusFromInt(statusValue) : undefined;
  if (!status) fail(`'status' must be 1 to 5, not ${JSON.stringify(statusValue)}`);
  const stage = meta.lifecycle_stage ?? 'active';
  if (stage !== 'active' && stage !== 'deleted') fail(`'lifecycle_stage' must be active or deleted`);
  return {
    run_id: id,
    run_name: text('run_name', false),
    experiment_id: expId,
    user_id: text('user_id', true),
    status: status!,
    start_time: time('start_time', true)!,
    end_time: time('end_time', false),
    lifecycle_stage: stage as RunInfo['lifecycle_stage'],
    artifact_uri: text('artifact_uri', false),
  };
}

/**
 * One run folder read on demand: a search evaluates its filter through these getters, so a clause that
 * fails stops the reads of the others, and only matching runs are read whole. Reads are synchronous on
 * purpose: for thousands of tiny files they are several times faster than promises on the thread pool.
 */
export class LazyRun implements RunFields {
  private infoCache?: RunInfo | null;
  private readonly metricCache = new Map<string, number | undefined>();
  private readonly textCache = new Map<string, string | undefined>();

  constructor(
    readonly dir: string,
    readonly runId: string,
    readonly experimentId: string,
  ) {}

  /** null when the folder has no meta.yaml (yet). */
  info(): RunInfo | null {
    if (this.infoCache === undefined) this.infoCache = parseRunInfo(this.dir, this.runId, this.experimentId) ?? null;
    return this.infoCache;
  }

  metric(key: string): number | undefined {
    if (!this.metricCache.has(key)) {
      const text = keyProblem(key) ? undefined : readIfExists(join(this.dir, METRICS_DIR, key));
      this.metricCache.set(key, text === undefined ? undefined : latestMetric(this.parseMetric(key, text)).value);
    }
    return this.metricCache.get(key);
  }

  param(key: string): string | undefined {
    return this.text(PARAMS_DIR, key);
  }

  tag(key: string): string | undefined {
    return this.text(TAGS_DIR, key);
  }

  private text(folder: string, key: string): string | undefined {
    const path = join(folder, key);
    if (!this.textCache.has(path)) this.textCache.set(path, keyProblem(key) ? undefined : readIfExists(join(this.dir, path)));
    return this.textCache.get(path);
  }

  attribute(name: AttributeName): string | number | null {
    const info = this.info();
    if (!info) return null;
    if (name === 'run_name') return info.run_name || (this.tag('mlflow.runName') ?? '');
    return info[name];
  }

  /** mlops logs no datasets, and MLflow's folder store keeps run inputs where we do not read them. */
  datasets(): string[] {
    return [];
  }

  history(key: string): Metric[] {
    const text = keyProblem(key) ? undefined : readIfExists(join(this.dir, METRICS_DIR, key));
    return text === undefined ? [] : this.parseMetric(key, text);
  }

  /** The whole run: every param, the latest value of every metric, every tag. */
  toRun(): Run {
    const info = this.info();
    if (!info) throw new StoreFileError(join(this.dir, META_FILE), 'missing');
    const metrics: Record<string, number> = {};
    for (const [key, text] of readKeyFiles(join(this.dir, METRICS_DIR))) metrics[key] = latestMetric(this.parseMetric(key, text)).value;
    const tags = Object.fromEntries(readKeyFiles(join(this.dir, TAGS_DIR)));
    if (!info.run_name && tags['mlflow.runName']) info.run_name = tags['mlflow.runName'];
    return { info, params: Object.fromEntries(readKeyFiles(join(this.dir, PARAMS_DIR))), metrics, tags };
  }

  private parseMetric(key: string, text: string): Metric[] {
    try {
      return parseMetricLines(key, text);
    } catch (error) {
      throw new StoreFileError(join(this.dir, METRICS_DIR, key), (error as Error).message);
    }
  }
}
