import { existsSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { MlopsError, UsageError } from '../core/errors.js';
import { driftReport, type DriftCheck } from '../monitor/check.js';
import { monitorDriftOptions } from '../monitor/config.js';
import { DEFAULT_MODEL_URI } from '../monitor/model.js';
import { periodFromFlags } from '../monitor/period.js';
import { predictionLogUri } from '../predictions/open.js';
import type { Project } from '../project/project.js';
import type { Tracking } from '../project/tracking.js';
import { STAGE_TAG } from '../tracking/tracked-run.js';

// The Monitoring page's data: drift per window computed as `mlops monitor drift` computes it (but
// neither recorded nor alerted: the page only reads), the realized metrics of the tracked
// `monitor-outcomes` runs, and the live server's traffic from its /metrics when --serve-url is given.

export interface MonitorQuery {
  readonly model?: string;
  readonly since?: string;
  readonly window?: string;
}

const OUTCOME_METRICS = ['accuracy', 'f1_macro', 'log_loss', 'brier'] as const;

export async function monitorView(project: Project, tracking: Tracking, query: MonitorQuery, serveUrl: URL | undefined, now = new Date()) {
  const uri = query.model || DEFAULT_MODEL_URI;
  // Bad flags are the user's to fix (400); a missing log or reference is an empty state on the page.
  const period = periodFromFlags({ since: query.since || '7d', window: query.window || '1d' }, now);
  const [drift, outcomes, live] = await Promise.all([driftOf(project, uri, period), outcomeRuns(tracking, uri), serveUrl ? liveTraffic(serveUrl) : null]);
  return { model: uri, since: query.since || '7d', window: query.window || '1d', ...drift, outcomes, live };
}

async function driftOf(project: Project, uri: string, period: ReturnType<typeof periodFromFlags>): Promise<{ drift: DriftCheck | null; empty: string | null }> {
  const log = predictionLogUri(project);
  if (!/^[a-z]+:/i.test(log) && !existsSync(log)) {
    const shown = isAbsolute(log) ? relative(project.root, log) : log;
    return { drift: null, empty: `no prediction log yet (${shown}): serve the model with \`mlops serve\` and send it requests` };
  }
  try {
    return { drift: await driftReport(project, { uri, period, ...monitorDriftOptions({}) }), empty: null };
  } catch (error) {
    // No reference, no such model or alias, no rows in the period: one line for the page.
    if (error instanceof MlopsError) return { drift: null, empty: error.message };
    throw error;
  }
}

/** Each `monitor-outcomes` run of this model: its windows' realized metrics (windows are the steps). */
async function outcomeRuns(tracking: Tracking, uri: string) {
  const { store } = tracking;
  const experiment = await store.getExperimentByName(tracking.experiment);
  if (!experiment) return [];
  const { runs } = await store.searchRuns({
    experimentIds: [experiment.experiment_id],
    filter: `tags.\`${STAGE_TAG}\` = 'monitor-outcomes'`,
    orderBy: ['attributes.start_time ASC'],
    maxResults: 1000,
  });
  const mine = runs.filter((r) => r.params.model === uri);
  return Promise.all(mine.map(async (run) => {
    const from = Date.parse(run.params.from ?? '');
    const windowMs = Number(run.params.window_seconds) * 1000;
    const series = await Promise.all(OUTCOME_METRICS.filter((k) => k in run.metrics).map(async (key) =>
      (await store.getMetricHistory(run.info.run_id, key)).map((m) => ({ metric: key, step: m.step, value: m.value, from: Number.isFinite(from) && windowMs > 0 ? new Date(from + m.step * windowMs).toISOString() : null }))));
    return { run_id: run.info.run_id, run_name: run.info.run_name, start_time: run.info.start_time, status: run.info.status, points: series.flat() };
  }));
}

/** Request rate and mean latency from the server's prom text, read twice a second apart. */
async function liveTraffic(base: URL) {
  const url = new URL('/metrics', base);
  try {
    const first = await scrape(url);
    await new Promise((r) => setTimeout(r, 1000));
    const second = await scrape(url);
    const requests = second.count - first.count;
    return {
      url: url.href,
      requests_total: second.count,
      requests_per_second: requests,
      mean_latency_ms: requests > 0 ? ((second.sum - first.sum) / requests) * 1000 : second.count > 0 ? (second.sum / second.count) * 1000 : null,
      error: null,
    };
  } catch (error) {
    return { url: url.href, error: `cannot read ${url.href}: ${(error as Error).message}` };
  }
}

async function scrape(url: URL): Promise<{ count: number; sum: number }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const text = await response.text();
  let count = 0;
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^mlops_http_request_duration_seconds_(count|sum)(?:\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'count') count += Number(m[2]);
    else sum += Number(m[2]);
  }
  return { count, sum };
}

/** `--serve-url`: an http(s) URL of a running `mlops serve`. */
export function serveUrl(text: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol)) throw new UsageError(`--serve-url: expected http://HOST:PORT of a running \`mlops serve\`, got ${JSON.stringify(text)}`);
  return url;
}
