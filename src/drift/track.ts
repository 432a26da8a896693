import type { TrackedRun } from '../tracking/run.js';
import type { DriftReport } from './detect.js';

// MLflow keys allow letters, digits and `_ - . / space`; a column named `Weight (kg)` becomes `Weight _kg_`.
const key = (name: string) => name.replace(/[^\w.\- /]/g, '_');

/** Logs a drift check: its settings, the share and count of drifted columns, and each column's test. */
export async function logDrift(run: TrackedRun, report: DriftReport): Promise<void> {
  const { reference, current, test, alternative, threshold, correction } = report;
  await run.logParams({ reference, current, test, alternative, threshold, correction });
  const metrics: Record<string, number> = {
    drift: report.drift ? 1 : 0,
    drift_share: report.share,
    drifted_columns: report.drifted_columns.length,
  };
  for (const [name, column] of Object.entries(report.columns)) {
    metrics[`statistic/${key(name)}`] = column.statistic;
    metrics[`p_value/${key(name)}`] = column.p_value;
  }
  await run.logMetrics(metrics);
  await run.setTags({ 'mlops.drift.columns': report.drifted_columns.join(', ') });
}
