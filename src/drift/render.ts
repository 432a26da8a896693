import type { DriftReport } from './detect.js';

// What the CLI shows of a report: the same rows for the terminal table and the markdown summary.

export const HEADER = ['column', 'type', 'test', 'statistic', 'p-value', 'adjusted', 'drift'] as const;

/** A number in 4 significant digits without trailing zeros; exponent form when very small or large. */
export function formatNumber(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a < 1e-3 || a >= 1e6 ? x.toExponential(3).replace(/\.?0+e/, 'e') : String(Number(x.toPrecision(4)));
}

export function reportRows(report: DriftReport): string[][] {
  return Object.entries(report.columns).map(([name, c]) => [
    name,
    c.type,
    c.test,
    formatNumber(c.statistic),
    formatNumber(c.p_value),
    formatNumber(c.p_adjusted),
    c.drift ? 'yes' : 'no',
  ]);
}

export function summaryLine(report: DriftReport): string {
  const total = Object.keys(report.columns).length;
  const share = `${report.drifted_columns.length} of ${total} columns (${(report.share * 100).toFixed(1)}%)`;
  const how = `threshold ${report.threshold}, correction ${report.correction}`;
  return report.drift ? `drift detected in ${share}: ${report.drifted_columns.join(', ')}; ${how}` : `no drift: ${share}; ${how}`;
}
