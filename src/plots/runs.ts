import type { Tracking } from '../project/tracking.js';
import { own } from '../core/flatten.js';
import type { Run } from '../tracking/store.js';
import { PARENT_RUN_TAG, STAGE_TAG } from '../tracking/tracked-run.js';
import type { ChartResult } from './chart.js';

/** One metric (default: the one most runs have) across the experiment's runs, in the order they started. */
export async function runsChart(tracking: Tracking, metric?: string): Promise<ChartResult> {
  const { store, experiment, shown } = tracking;
  const what = `${metric ?? 'metric'} across runs`;
  const found = await store.getExperimentByName(experiment);
  if (!found) return { skipped: what, reason: `no experiment named '${experiment}' in ${shown}` };
  // A run that cannot be read is left out of the chart, as it is of `runs list`; so are grid-search children.
  const { runs: all } = await store.searchRuns({ experimentIds: [found.experiment_id], orderBy: ['attributes.start_time ASC'] });
  const runs = all.filter((r) => r.tags[PARENT_RUN_TAG] === undefined);
  const counts = new Map<string, number>();
  for (const run of runs) for (const key of Object.keys(run.metrics)) counts.set(key, (counts.get(key) ?? 0) + 1);
  const key = metric ?? [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
  const withKey = runs.filter((r) => key !== undefined && own(r.metrics, key) !== undefined);
  if (key === undefined || !withKey.length) return { skipped: what, reason: `no run of experiment '${experiment}' logged ${metric ?? 'a metric'}` };
  // One line per kind of run and data set: a test-set score of one data set joined to a CV score or
  // to another data set's score would draw a trend that is not there.
  const values = withKey.map((r, i) => ({ run: i + 1, value: r.metrics[key]!, rev: seriesName(r, key), name: `${r.info.run_name || r.info.run_id} (${r.info.run_id.slice(0, 8)})` }));
  const title = `${key} across runs (experiment '${experiment}')`;
  const x = { field: 'run', type: 'quantitative', title: 'run (oldest first)', axis: { tickMinStep: 1, format: 'd' } };
  // A flat series gets a narrow band around its value, not a zero-width (or -0.5..2) axis.
  const ys = withKey.map((r) => r.metrics[key]!);
  const [lo, hi] = [Math.min(...ys), Math.max(...ys)];
  const pad = Math.abs(lo) * 0.05 || 1;
  const y = { field: 'value', type: 'quantitative', title: key, scale: lo === hi ? { domain: [lo - pad, hi + pad] } : { zero: false } };
  return {
    chart: {
      title,
      source: shown,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: 420, height: 260, data: { values },
        encoding: { x, y, color: { field: 'rev', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 400 } } },
        layer: [{ mark: 'line' }, { mark: { type: 'point', filled: true, size: 50 }, encoding: { tooltip: [{ field: 'name', title: 'run' }, { field: 'value', title: key }] } }],
      },
    },
  };
}

// The params that name a run's data set: the prepare stage's `input`, as prepare runs log it and as
// experiments record params.yaml.
const DATA_PARAMS = ['prepare.input', 'input'];

/** `stage (data set)`: the stage tag, and the data set when the run recorded it; else the metric's name. */
function seriesName(run: Run, key: string): string {
  const stage = run.tags[STAGE_TAG];
  const data = DATA_PARAMS.map((p) => own(run.params, p)).find((v) => v !== undefined);
  return [stage ?? (data === undefined ? key : undefined), data === undefined ? undefined : `(${data})`].filter(Boolean).join(' ');
}
