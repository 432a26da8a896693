import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { ConfigError, FailureError } from '../core/errors.js';
import { loadParamsSection } from '../params/params.js';
import type { TrackedRun } from '../tracking/run.js';
import { SectionReader } from './config.js';
import { formatCsv, formatNumber } from '../core/csv.js';
import { readDataset, type Dataset } from './dataset.js';
import { argmaxRows } from './forest.js';
import { permutationImportance, type Importance } from './importance.js';
import { accuracy, brier, confusionMatrix, logLoss, mae, perClass, presentClasses, r2, rmse, score, type ClassScores } from './metrics.js';
import { readModelFile, readTransformFile, type SavedModel } from './model-file.js';
import { PATHS } from './paths.js';
import { featureGroups } from './transform.js';

// `mlops evaluate`: test-set metrics, the confusion matrix (long format, one `actual,predicted` row
// per test row, which DVC's confusion template counts; for regression the same rows hold values, for a
// scatter plot), permutation importance; then the quality gates from evaluate.thresholds, checked only
// after every report is written.

const KEYS = ['thresholds', 'permutation_repeats', 'permutation_max_rows', 'seed'];
const CLASSIFICATION_METRICS = ['accuracy', 'f1_macro', 'precision_macro', 'recall_macro', 'balanced_accuracy', 'log_loss', 'brier'] as const;
const REGRESSION_METRICS = ['r2', 'rmse', 'mae'] as const;
export const GATE_METRICS = [...CLASSIFICATION_METRICS, ...REGRESSION_METRICS] as const;
export type GateMetric = (typeof GATE_METRICS)[number];

export interface Gate {
  readonly metric: GateMetric;
  readonly min?: number;
  readonly max?: number;
}

/** `metric: {min: x, max: y}` thresholds at `path` of a params section (evaluate's, the registry's). */
export function readThresholds(reader: SectionReader, path: readonly string[]): Gate[] {
  const thresholds = reader.mapping(path, {});
  reader.checkKeys(path, thresholds, GATE_METRICS);
  return Object.keys(thresholds).map((metric) => {
    const bounds = reader.mapping([...path, metric]);
    reader.checkKeys([...path, metric], bounds, ['min', 'max']);
    if (Object.keys(bounds).length === 0) throw reader.error([...path, metric], 'give min, max or both');
    const bound = (key: 'min' | 'max') => (bounds[key] === undefined ? undefined : reader.number([...path, metric, key], () => true, 'a number'));
    return { metric: metric as GateMetric, min: bound('min'), max: bound('max') };
  });
}

interface EvaluateConfig {
  readonly gates: Gate[];
  readonly repeats: number;
  /** Test rows permutation importance is computed on, at most (a seeded sample beyond). */
  readonly maxRows: number;
  readonly seed: number;
}

function readEvaluateConfig(root: string): { config: EvaluateConfig; reader: SectionReader } {
  const reader = new SectionReader(loadParamsSection(root, 'evaluate'));
  reader.checkKeys([], reader.section.value, KEYS);
  const config = {
    gates: readThresholds(reader, ['thresholds']),
    repeats: reader.integer(['permutation_repeats'], 1, 5),
    maxRows: reader.integer(['permutation_max_rows'], 1, 10_000),
    seed: reader.integer(['seed'], 0, 42),
  };
  return { config, reader };
}

/** The task's metrics (classification or regression ones), the test size, per-class scores for a classifier. */
export interface Metrics extends Partial<Record<GateMetric, number>> {
  readonly n_test: number;
  readonly per_class?: Record<string, ClassScores>;
}

/** The metric names a model of this task reports, in display order. */
export const metricsOf = (metrics: Metrics): GateMetric[] => GATE_METRICS.filter((m) => metrics[m] !== undefined);

export interface EvaluateSummary {
  readonly metrics: Metrics;
  readonly importance: Importance[];
  /** One line per failed gate (empty when all pass). */
  readonly failed: string[];
}

/** Which model evaluate scores: the example's files unless a path or a registered version is given. */
export interface ModelFiles {
  readonly model: string;
  readonly transform: string;
}

/** Scores a saved model on a prepared test CSV: evaluate's metrics, nothing written. */
export function scoreOnTest(saved: SavedModel, testPath: string): { metrics: Metrics; data: Dataset['data']; pairs: string[][] } {
  const test = readDataset(testPath, saved.target, saved.task, saved.classes);
  if (test.features.join() !== saved.features.join()) {
    throw new ConfigError(`columns differ from the model's features (${saved.features.length} expected); rerun prepare and train`, { file: test.file });
  }
  const { data } = test;
  const output = saved.model.predictProba(data);
  return { data, ...(data.values ? regressionMetrics(data.values, output) : classificationMetrics(data.y, output, saved.classes)) };
}

export async function evaluate(root: string, run?: TrackedRun, files?: ModelFiles): Promise<EvaluateSummary> {
  const { config, reader } = readEvaluateConfig(root);
  const saved = await readModelFile(files?.model ?? join(root, PATHS.model));
  const transform = readTransformFile(files?.transform ?? join(root, PATHS.transform));
  const { metrics, data, pairs } = scoreOnTest(saved, join(root, PATHS.test));
  for (const gate of config.gates) {
    if (metrics[gate.metric] === undefined) throw reader.error(['thresholds', gate.metric], `not a metric of a ${saved.task} model (its metrics: ${metricsOf(metrics).join(', ')})`);
  }
  const importance = permutationImportance(saved.model, data, featureGroups(transform), config.repeats, config.seed, config.maxRows);
  importance.sort((a, b) => b.mean - a.mean);
  // Per-class scores get their own file: as metrics they would make `metrics show` and `exp show`
  // one column per class and score; the declared metrics file keeps the headline ones.
  // (Written for a regression model too, empty: the pipeline declares it an output either way.)
  const { per_class: perClassScores = {}, ...headline } = metrics;
  await writeFileAtomic(join(root, PATHS.metrics), JSON.stringify(headline, null, 2) + '\n');
  await writeFileAtomic(join(root, PATHS.perClass), JSON.stringify(perClassScores, null, 2) + '\n');
  await writeFileAtomic(
    join(root, PATHS.confusion),
    formatCsv(['actual', 'predicted'], pairs),
  );
  await writeFileAtomic(join(root, PATHS.importance), formatCsv(['feature', 'importance_mean', 'importance_std'], importance.map((f) => [f.name, f.mean, f.std])));
  if (run) {
    await run.logParams(reader.section.value);
    await run.logMetrics(Object.fromEntries(metricsOf(metrics).map((m) => [m, metrics[m]!])));
    for (const path of [PATHS.metrics, PATHS.perClass, PATHS.confusion, PATHS.importance]) await run.logArtifact(join(root, path));
  }
  const failed = checkGates(config.gates, metrics);
  return { metrics, importance, failed };
}

function classificationMetrics(y: Int32Array, proba: Float64Array, classes: readonly string[]): { metrics: Metrics; pairs: string[][] } {
  const C = classes.length;
  const predicted = argmaxRows(proba, C);
  const confusion = confusionMatrix(y, predicted, C);
  const classScores = perClass(confusion, C);
  const present = presentClasses(y, predicted, C);
  const macro = (key: 'precision' | 'recall') => present.reduce((a, k) => a + classScores[k]![key], 0) / present.length;
  const metrics: Metrics = {
    accuracy: accuracy(y, predicted),
    f1_macro: score('f1_macro', y, predicted, C),
    precision_macro: macro('precision'),
    recall_macro: macro('recall'),
    balanced_accuracy: score('balanced_accuracy', y, predicted, C),
    log_loss: logLoss(y, proba, C),
    brier: brier(y, proba, C),
    n_test: y.length,
    per_class: Object.fromEntries(classes.map((c, k) => [c, classScores[k]!])),
  };
  return { metrics, pairs: Array.from(y, (a, i) => [classes[a]!, classes[predicted[i]!]!]) };
}

function regressionMetrics(actual: Float64Array, predicted: Float64Array): { metrics: Metrics; pairs: string[][] } {
  const metrics: Metrics = { r2: r2(actual, predicted), rmse: rmse(actual, predicted), mae: mae(actual, predicted), n_test: actual.length };
  return { metrics, pairs: Array.from(actual, (a, i) => [String(a), formatNumber(predicted[i]!)]) };
}

export interface GateResult {
  readonly metric: GateMetric;
  readonly bound: 'min' | 'max';
  readonly threshold: number;
  readonly value: number;
  readonly passed: boolean;
}

/** Each bound of each gate checked against `metrics` (which the caller has checked hold every gated metric). */
export function gateResults(gates: readonly Gate[], metrics: Partial<Record<GateMetric, number>>): GateResult[] {
  return gates.flatMap(({ metric, min, max }) => {
    const value = metrics[metric]!;
    const out: GateResult[] = [];
    if (min !== undefined) out.push({ metric, bound: 'min', threshold: min, value, passed: value >= min });
    if (max !== undefined) out.push({ metric, bound: 'max', threshold: max, value, passed: value <= max });
    return out;
  });
}

/** A failed gate as one line: `accuracy 0.41 < min 0.5`. */
export const failedGateText = (g: GateResult) => `${g.metric} ${round(g.value)} ${g.bound === 'min' ? '<' : '>'} ${g.bound} ${g.threshold}`;

function checkGates(gates: readonly Gate[], metrics: Metrics): string[] {
  return gateResults(gates, metrics).filter((g) => !g.passed).map(failedGateText);
}

const round = (v: number) => Number(v.toFixed(4));

/** The FailureError evaluate's command throws after printing its reports. */
export function gateFailure(failed: readonly string[]): FailureError {
  return new FailureError(`quality gate${failed.length > 1 ? 's' : ''} failed: ${failed.join('; ')} (see ${PATHS.metrics})`);
}
