import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { getPath } from '../core/flatten.js';
import { parseYaml, readYamlFile } from '../core/yaml.js';
import { DEFAULT_PARAMS_FILE } from '../params/params.js';
import type { ChartResult } from './chart.js';

// Runs are read straight from MLflow's folder layout (mlruns/<experiment>/<run>/{meta.yaml,metrics/,tags/}),
// which MLflow fixes, so this needs nothing from the tracking store's code.

interface RunMetrics {
  id: string;
  name: string;
  start: number;
  /** Latest value of each metric (max by step, then timestamp, then value, as MLflow defines it). */
  metrics: Map<string, number>;
}

/** `MLOPS_TRACKING_DIR`, else params.yaml `tracking.dir`, else `mlruns`; and `tracking.experiment`. */
export function trackingLocation(root: string): { dir: string; experiment: string } {
  const paramsPath = join(root, DEFAULT_PARAMS_FILE);
  const params = existsSync(paramsPath) ? readYamlFile(paramsPath).value : undefined;
  const dir = process.env.MLOPS_TRACKING_DIR || String(getPath(params, 'tracking.dir') ?? 'mlruns');
  return { dir: isAbsolute(dir) ? dir : join(root, dir), experiment: String(getPath(params, 'tracking.experiment') ?? 'Default') };
}

const subfolders = (dir: string) =>
  readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

function readMeta(file: string): Record<string, unknown> | null {
  try {
    const value = parseYaml(readFileSync(file, 'utf8'), file).value;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null; // a corrupted run is left out of the chart, like MLflow's listing does
  }
}

/** Metric files under `metrics/`, keyed by their path (a key with `/` is a nested folder). */
function metricFiles(dir: string, prefix = ''): [string, string][] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d): [string, string][] =>
    d.isDirectory() ? metricFiles(join(dir, d.name), `${prefix}${d.name}/`) : [[`${prefix}${d.name}`, join(dir, d.name)]],
  );
}

function latestValue(file: string): number | undefined {
  let best: [number, number, number] | undefined; // step, timestamp, value
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [ts, value, step] = line.trim().split(/\s+/).map(Number) as [number, number, number?];
    if (!Number.isFinite(value) || !Number.isFinite(ts)) continue;
    const entry: [number, number, number] = [step ?? 0, ts, value];
    if (!best || entry[0] > best[0] || (entry[0] === best[0] && (entry[1] > best[1] || (entry[1] === best[1] && entry[2] > best[2])))) best = entry;
  }
  return best?.[2];
}

/** Top-level runs (grid-search children left out) of the named experiment, oldest first. */
function readRuns(dir: string, experiment: string): RunMetrics[] | string {
  if (!existsSync(dir)) return `${dir} not found`;
  const expDir = subfolders(dir)
    .filter((name) => name !== '.trash' && name !== 'models')
    .find((name) => readMeta(join(dir, name, 'meta.yaml'))?.name === experiment);
  if (!expDir) return `no experiment named '${experiment}' in ${dir}`;
  const runs: RunMetrics[] = [];
  for (const id of subfolders(join(dir, expDir))) {
    const runDir = join(dir, expDir, id);
    const meta = readMeta(join(runDir, 'meta.yaml'));
    if (!meta || meta.lifecycle_stage === 'deleted' || existsSync(join(runDir, 'tags', 'mlflow.parentRunId'))) continue;
    const metrics = new Map<string, number>();
    for (const [key, file] of metricFiles(join(runDir, 'metrics'))) {
      const value = statSync(file).size ? latestValue(file) : undefined;
      if (value !== undefined) metrics.set(key, value);
    }
    runs.push({ id, name: String(meta.run_name ?? id), start: Number(meta.start_time ?? 0), metrics });
  }
  return runs.sort((a, b) => a.start - b.start);
}

/** One metric (default: the one most runs have) across the experiment's runs, in the order they started. */
export function runsChart(root: string, metric?: string): ChartResult {
  const { dir, experiment } = trackingLocation(root);
  const runs = readRuns(dir, experiment);
  const what = `${metric ?? 'metric'} across runs`;
  if (typeof runs === 'string') return { skipped: what, reason: runs };
  const counts = new Map<string, number>();
  for (const run of runs) for (const key of run.metrics.keys()) counts.set(key, (counts.get(key) ?? 0) + 1);
  const key = metric ?? [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
  const withKey = runs.filter((r) => key !== undefined && r.metrics.has(key));
  if (key === undefined || !withKey.length) return { skipped: what, reason: `no run of experiment '${experiment}' logged ${metric ?? 'a metric'}` };
  return {
    chart: {
      kind: 'linear',
      title: `${key} across runs (experiment '${experiment}')`,
      xLabel: 'run (oldest first)',
      yLabel: key,
      source: relative(root, dir) || dir,
      series: [{ name: key, points: withKey.map((r, i) => ({ x: i + 1, y: r.metrics.get(key)!, label: `${r.name} (${r.id.slice(0, 8)})` })) }],
    },
  };
}
