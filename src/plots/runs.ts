import type { Tracking } from '../project/tracking.js';
import { PARENT_RUN_TAG } from '../tracking/tracked-run.js';
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
  const withKey = runs.filter((r) => key !== undefined && r.metrics[key] !== undefined);
  if (key === undefined || !withKey.length) return { skipped: what, reason: `no run of experiment '${experiment}' logged ${metric ?? 'a metric'}` };
  return {
    chart: {
      kind: 'linear',
      title: `${key} across runs (experiment '${experiment}')`,
      xLabel: 'run (oldest first)',
      yLabel: key,
      source: shown,
      series: [{ name: key, points: withKey.map((r, i) => ({ x: i + 1, y: r.metrics[key]!, label: `${r.info.run_name || r.info.run_id} (${r.info.run_id.slice(0, 8)})` })) }],
    },
  };
}
