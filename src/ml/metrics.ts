import { argmaxRows } from './forest.js';
import type { LabelledMatrix } from './matrix.js';

// Classification and regression metrics with scikit-learn's definitions. Labels are class indices
// 0..nClasses-1; scoring names are scikit-learn's scorer names (larger is better, hence neg_ errors).

export type ClassificationScoring = 'f1_macro' | 'accuracy' | 'balanced_accuracy';
export type RegressionScoring = 'r2' | 'neg_root_mean_squared_error' | 'neg_mean_absolute_error';
export type Scoring = ClassificationScoring | RegressionScoring;
export const CLASSIFICATION_SCORINGS: readonly ClassificationScoring[] = ['f1_macro', 'accuracy', 'balanced_accuracy'];
export const REGRESSION_SCORINGS: readonly RegressionScoring[] = ['r2', 'neg_root_mean_squared_error', 'neg_mean_absolute_error'];
export const SCORINGS: readonly Scoring[] = [...CLASSIFICATION_SCORINGS, ...REGRESSION_SCORINGS];

const isRegressionScoring = (s: Scoring): s is RegressionScoring => (REGRESSION_SCORINGS as readonly string[]).includes(s);

/**
 * The score of a model's output (class probabilities, or one value per row for regression) on `rows`
 * of `data` (all when omitted); output row i belongs to rows[i].
 */
export function scoreOutput(scoring: Scoring, data: LabelledMatrix, output: Float64Array, rows?: Int32Array): number {
  const at = (i: number) => (rows ? rows[i]! : i);
  if (isRegressionScoring(scoring)) {
    const actual = Float64Array.from(output, (_, i) => data.values![at(i)]!);
    if (scoring === 'r2') return r2(actual, output);
    return -(scoring === 'neg_root_mean_squared_error' ? rmse(actual, output) : mae(actual, output));
  }
  const actual = Int32Array.from({ length: output.length / data.nClasses }, (_, i) => data.y[at(i)]!);
  return score(scoring, actual, argmaxRows(output, data.nClasses), data.nClasses);
}

/** Coefficient of determination; a constant true column gives 1 when predicted exactly, else 0 (scikit-learn's force_finite). */
export function r2(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < actual.length; i++) m += actual[i]!;
  m /= actual.length;
  let residual = 0;
  let totalSquares = 0;
  for (let i = 0; i < actual.length; i++) {
    residual += (actual[i]! - predicted[i]!) ** 2;
    totalSquares += (actual[i]! - m) ** 2;
  }
  if (totalSquares === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / totalSquares;
}

export function rmse(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += (actual[i]! - predicted[i]!) ** 2;
  return Math.sqrt(sum / actual.length);
}

export function mae(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(actual[i]! - predicted[i]!);
  return sum / actual.length;
}

/** confusion[actual * nClasses + predicted] = count. */
export function confusionMatrix(actual: ArrayLike<number>, predicted: ArrayLike<number>, nClasses: number): Int32Array {
  const m = new Int32Array(nClasses * nClasses);
  for (let i = 0; i < actual.length; i++) m[actual[i]! * nClasses + predicted[i]!]!++;
  return m;
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Per class: a class never predicted has precision 0 and one never present recall 0 (scikit-learn's zero_division). */
export function perClass(confusion: Int32Array, nClasses: number): ClassScores[] {
  const out: ClassScores[] = [];
  for (let k = 0; k < nClasses; k++) {
    let predicted = 0;
    let support = 0;
    for (let j = 0; j < nClasses; j++) {
      predicted += confusion[j * nClasses + k]!;
      support += confusion[k * nClasses + j]!;
    }
    const tp = confusion[k * nClasses + k]!;
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    out.push({ precision, recall, f1, support });
  }
  return out;
}

export function accuracy(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] === predicted[i]) correct++;
  return correct / actual.length;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export function score(scoring: ClassificationScoring, actual: ArrayLike<number>, predicted: ArrayLike<number>, nClasses: number): number {
  if (scoring === 'accuracy') return accuracy(actual, predicted);
  // only classes present in either labels or predictions count, as scikit-learn's unique_labels does
  const classes = perClass(confusionMatrix(actual, predicted, nClasses), nClasses);
  const present = presentClasses(actual, predicted, nClasses);
  if (scoring === 'balanced_accuracy') {
    // balanced accuracy averages recall over the classes present in the true labels
    return mean(classes.filter((c) => c.support > 0).map((c) => c.recall));
  }
  return mean(present.map((k) => classes[k]!.f1));
}

export function presentClasses(actual: ArrayLike<number>, predicted: ArrayLike<number>, nClasses: number): number[] {
  const seen = new Uint8Array(nClasses);
  for (let i = 0; i < actual.length; i++) seen[actual[i]!] = seen[predicted[i]!] = 1;
  return [...seen.keys()].filter((k) => seen[k]);
}

/** Mean negative log-likelihood of the true class; probabilities clipped to [1e-15, 1 - 1e-15]. */
export function logLoss(actual: ArrayLike<number>, proba: Float64Array, nClasses: number): number {
  const eps = 1e-15;
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    // scikit-learn clips every probability then renormalises the row
    let rowSum = 0;
    for (let k = 0; k < nClasses; k++) rowSum += Math.min(1 - eps, Math.max(eps, proba[i * nClasses + k]!));
    const p = Math.min(1 - eps, Math.max(eps, proba[i * nClasses + actual[i]!]!)) / rowSum;
    sum -= Math.log(p);
  }
  return sum / actual.length;
}

/** Multiclass Brier score (Brier 1950): mean over rows of sum_k (p_k - [k is the true class])^2. */
export function brier(actual: ArrayLike<number>, proba: Float64Array, nClasses: number): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    for (let k = 0; k < nClasses; k++) {
      const d = proba[i * nClasses + k]! - (actual[i] === k ? 1 : 0);
      sum += d * d;
    }
  }
  return sum / actual.length;
}
