import type { ChartResult } from './chart.js';
import { parseRows, readData, type DataSource, type Row } from './data.js';
import { BUILTIN_TEMPLATES, fillTemplate, type Spec } from './templates.js';
import { parseYaml } from '../core/yaml.js';

// The reports the built-in evaluate and train stages write, drawn without any pipeline definition.
export const CONFUSION_FILE = 'reports/confusion_matrix.csv';
export const CV_FILE = 'reports/cv_results.json';
export const IMPORTANCE_FILE = 'reports/feature_importance.csv';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const missing = (skipped: string, file: string): ChartResult => ({ skipped, reason: `${file} not found` });

/**
 * The confusion matrix from either layout the evaluate stage may write: long (one row per test sample,
 * columns `actual,predicted`) or a count matrix (first column the actual class, one column per
 * predicted), drawn with the `confusion` template either way.
 */
export async function confusionChart(source: DataSource, file = CONFUSION_FILE): Promise<ChartResult> {
  const text = await readData(source, file);
  if (text === null) return missing('confusion matrix', file);
  const rows = parseRows(text, file);
  const header = Object.keys(rows[0] ?? {});
  let pairs: Row[];
  if (header.includes('actual') && header.includes('predicted')) {
    pairs = rows.map((r) => ({ actual: String(r.actual), predicted: String(r.predicted), rev: source.tree.label }));
  } else {
    const [labelColumn, ...predicted] = header;
    if (labelColumn === undefined || predicted.length !== rows.length) {
      return { skipped: 'confusion matrix', reason: `${file}: expected columns actual,predicted or a square count matrix` };
    }
    // One record per sample, as the long layout has them: the template counts them.
    pairs = rows.flatMap((r) => predicted.flatMap((p) => Array.from({ length: Number(r[p] ?? 0) }, () => ({ actual: String(r[labelColumn]), predicted: p, rev: source.tree.label }))));
  }
  const spec = fillTemplate(BUILTIN_TEMPLATES.confusion!, { data: pairs, title: 'Confusion matrix', x: 'actual', y: 'predicted', xLabel: 'actual', yLabel: 'predicted' });
  return { chart: { title: 'Confusion matrix', source: file, spec } };
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

/** Horizontal bars with ±1 std error bars, names down the side, the largest first. */
function barsWithError(values: Row[], title: string, valueTitle: string, nameTitle: string): Spec {
  // Sorted here, largest first, and drawn in data order: a sort on the layered y would conflict.
  const sorted = [...values].sort((a, b) => (b.value as number) - (a.value as number));
  const y = { field: 'name', type: 'nominal', title: nameTitle, sort: null, axis: { labelLimit: 480 } };
  return {
    $schema: SCHEMA, title, width: 420, data: { values: sorted },
    encoding: { y },
    layer: [
      { mark: { type: 'bar', tooltip: true }, encoding: { x: { field: 'value', type: 'quantitative', title: valueTitle }, color: { field: 'group', type: 'nominal', title: null, legend: values.some((v) => v.group !== values[0]?.group) ? {} : null } } },
      { mark: { type: 'rule' }, transform: [{ filter: 'isValid(datum.err)' }, { calculate: 'datum.value - datum.err', as: 'lo' }, { calculate: 'datum.value + datum.err', as: 'hi' }], encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
    ],
  };
}

/** Mean CV score of every grid candidate (the best in its own colour), with ±1 std error bars. */
export async function cvChart(source: DataSource, file = CV_FILE): Promise<ChartResult> {
  const text = await readData(source, file);
  if (text === null) return missing('CV scores', file);
  const value = parseYaml(text, file).value as { candidates?: CvCandidate[]; best_params?: Record<string, unknown> } | null;
  const candidates = (value?.candidates ?? []).filter((c) => c && typeof meanOf(c) === 'number' && c.params);
  if (!candidates.length) return { skipped: 'CV scores', reason: `${file}: no candidates with a numeric 'mean_score'` };
  // Only the params that vary between candidates name them; the rest would repeat on every bar.
  const keys = Object.keys(candidates[0]!.params);
  const varying = keys.filter((k) => new Set(candidates.map((c) => JSON.stringify(c.params[k]))).size > 1);
  const name = (c: CvCandidate) => (varying.length ? varying : keys).map((k) => `${k}=${c.params[k]}`).join(', ') || 'default';
  const best = JSON.stringify(value?.best_params);
  const rows = candidates.map((c) => ({ name: name(c), value: meanOf(c)!, err: c.std_score ?? c.std ?? null, group: JSON.stringify(c.params) === best ? 'best' : 'candidates' }));
  const title = `Cross-validation score of ${candidates.length} grid candidates`;
  return { chart: { title, source: file, spec: barsWithError(rows, title, 'mean CV score (± std)', 'candidate') } };
}

/** Feature importances, largest first: `feature,importance`, or the evaluate stage's permutation
 *  importance `feature,importance_mean,importance_std` (drawn with ±1 std). */
export async function importanceChart(source: DataSource, file = IMPORTANCE_FILE): Promise<ChartResult> {
  const text = await readData(source, file);
  if (text === null) return missing('feature importances', file);
  const valueOf = (r: Row) => r.importance_mean ?? r.importance;
  const rows = parseRows(text, file).filter((r) => typeof valueOf(r) === 'number');
  if (!rows.length) return { skipped: 'feature importances', reason: `${file}: expected columns feature,importance` };
  const values = rows.map((r) => ({ name: String(r.feature), value: valueOf(r) as number, err: typeof r.importance_std === 'number' ? r.importance_std : null, group: 'importance' }));
  return { chart: { title: 'Feature importances', source: file, spec: barsWithError(values, 'Feature importances', 'importance', 'feature') } };
}
