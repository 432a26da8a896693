import { keyProblem } from '../tracking/keys.js';
import type { TrackedRun } from '../tracking/run.js';
import type { DriftReport } from './detect.js';

/**
 * One metric-key segment per column, always valid and never shared: MLflow keys allow letters, digits
 * and `_ - . space` in a segment (`Weight (kg)` becomes `Weight _kg_`); a name that is still not a
 * valid path segment (`..`), or that another column already took, gets its column number appended.
 */
export function columnKeys(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name, i) => {
    let key = name.replace(/[^\w.\- ]/g, '_');
    if (keyProblem(`statistic/${key}`) || taken.has(key)) key = `${key}_${i + 1}`;
    if (keyProblem(`statistic/${key}`)) key = `column_${i + 1}`;
    taken.add(key);
    return key;
  });
}

/** Logs a drift check: its settings, the share and count of drifted columns, and each column's test. */
export async function logDrift(run: TrackedRun, report: DriftReport): Promise<void> {
  const { reference, current, test, alternative, threshold, correction } = report;
  await run.logParams({ reference, current, test, alternative, threshold, correction });
  const metrics: Record<string, number> = {
    drift: report.drift ? 1 : 0,
    drift_share: report.share,
    drifted_columns: report.drifted_columns.length,
  };
  const columns = Object.entries(report.columns);
  const keys = columnKeys(columns.map(([name]) => name));
  columns.forEach(([, column], i) => {
    metrics[`statistic/${keys[i]}`] = column.statistic;
    metrics[`p_value/${keys[i]}`] = column.p_value;
  });
  await run.logMetrics(metrics);
  await run.setTags({ 'mlops.drift.columns': report.drifted_columns.join(', ') });
}
