import type { Chart, ChartResult, Point } from './chart.js';
import { countPairs, naturalOrder, parseRows, readData, type Row } from './data.js';
import { parseYaml } from '../core/yaml.js';

// The reports the built-in evaluate and train stages write, drawn without any pipeline definition.
export const CONFUSION_FILE = 'reports/confusion_matrix.csv';
export const CV_FILE = 'reports/cv_results.json';
export const IMPORTANCE_FILE = 'reports/feature_importance.csv';

const missing = (skipped: string, file: string): ChartResult => ({ skipped, reason: `${file} not found` });

/**
 * The confusion matrix from either layout the evaluate stage may write: long (one row per test sample,
 * columns `actual,predicted`) or a count matrix (first column the actual class, one column per predicted).
 */
export function confusionChart(root: string, file = CONFUSION_FILE): ChartResult {
  const text = readData(root, file);
  if (text === null) return missing('confusion matrix', file);
  const rows = parseRows(text, file);
  const header = Object.keys(rows[0] ?? {});
  const base = { kind: 'confusion', title: 'Confusion matrix', xLabel: 'predicted', yLabel: 'actual', source: file } as const;
  if (header.includes('actual') && header.includes('predicted')) {
    return { chart: { ...base, ...countPairs(rows.map((r) => [String(r.actual), String(r.predicted)] as const)) } };
  }
  const [labelColumn, ...predicted] = header;
  if (labelColumn === undefined || predicted.length !== rows.length) {
    return { skipped: 'confusion matrix', reason: `${file}: expected columns actual,predicted or a square count matrix` };
  }
  const order = rows.map((r) => String(r[labelColumn]));
  return {
    chart: { ...base, labels: order, counts: rows.map((r) => order.map((label) => Number(r[label] ?? 0))) },
  };
}

// The train stage writes scikit-learn's names (mean_score, std_score); plain mean/std are read too.
interface CvCandidate {
  params: Record<string, unknown>;
  mean_score?: number;
  std_score?: number;
  mean?: number;
  std?: number;
}
const meanOf = (c: CvCandidate) => c.mean_score ?? c.mean;

/** Mean CV score of every grid candidate (best first, in its own colour), with ±1 std error bars. */
export function cvChart(root: string, file = CV_FILE): ChartResult {
  const text = readData(root, file);
  if (text === null) return missing('CV scores', file);
  const value = parseYaml(text, file).value as { candidates?: CvCandidate[]; best_params?: Record<string, unknown> } | null;
  const candidates = (value?.candidates ?? []).filter((c) => c && typeof meanOf(c) === 'number' && c.params);
  if (!candidates.length) return { skipped: 'CV scores', reason: `${file}: no candidates with a numeric 'mean_score'` };
  // Only the params that vary between candidates name them; the rest would repeat on every bar.
  const keys = Object.keys(candidates[0]!.params);
  const varying = keys.filter((k) => new Set(candidates.map((c) => JSON.stringify(c.params[k]))).size > 1);
  const name = (c: CvCandidate) => (varying.length ? varying : keys).map((k) => `${k}=${c.params[k]}`).join(', ') || 'default';
  const best = JSON.stringify(value?.best_params);
  const point = (c: CvCandidate): Point => ({ x: name(c), y: meanOf(c)!, err: c.std_score ?? c.std, label: JSON.stringify(c.params) });
  const sorted = [...candidates].sort((a, b) => meanOf(b)! - meanOf(a)!);
  const isBest = (c: CvCandidate) => JSON.stringify(c.params) === best;
  const chart: Chart = {
    kind: 'bar',
    title: `Cross-validation score of ${candidates.length} grid candidates`,
    xLabel: 'mean CV score (± std)',
    yLabel: 'candidate',
    source: file,
    series: [
      { name: 'best', points: sorted.filter(isBest).map(point) },
      { name: 'candidates', points: sorted.filter((c) => !isBest(c)).map(point) },
    ].filter((s) => s.points.length),
  };
  return { chart };
}

/** Feature importances, largest first: `feature,importance`, or the evaluate stage's permutation
 *  importance `feature,importance_mean,importance_std` (drawn with ±1 std). */
export function importanceChart(root: string, file = IMPORTANCE_FILE): ChartResult {
  const text = readData(root, file);
  if (text === null) return missing('feature importances', file);
  const value = (r: Row) => r.importance_mean ?? r.importance;
  const rows = parseRows(text, file).filter((r) => typeof value(r) === 'number');
  if (!rows.length) return { skipped: 'feature importances', reason: `${file}: expected columns feature,importance` };
  const points = rows
    .map((r): Point => ({ x: String(r.feature), y: value(r) as number, err: typeof r.importance_std === 'number' ? r.importance_std : undefined }))
    .sort((a, b) => b.y - a.y || naturalOrder(String(a.x), String(b.x)));
  return {
    chart: { kind: 'bar', title: 'Feature importances', xLabel: 'importance', yLabel: 'feature', source: file, series: [{ name: 'importance', points }] },
  };
}
