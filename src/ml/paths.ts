import { join, resolve } from 'node:path';

// Where the built-in stages read and write, relative to the project root. The default example's drift
// stage compares rawTrain and rawTest (the raw feature columns of each part).
export const PATHS = {
  train: 'data/prepared/train.csv',
  test: 'data/prepared/test.csv',
  rawTrain: 'data/split/train.csv',
  rawTest: 'data/split/test.csv',
  transform: 'models/transform.json',
  model: 'models/model.json',
  cvResults: 'reports/cv_results.json',
  metrics: 'reports/metrics.json',
  perClass: 'reports/per_class.json',
  confusion: 'reports/confusion_matrix.csv',
  importance: 'reports/feature_importance.csv',
} as const;

/**
 * What a `--model` argument names, as a file path: the given file (relative to `cwd`), or without one
 * the default example's model under the project root. Every command taking a model goes through here,
 * so other kinds of model reference (a registry's) have one place to be resolved.
 */
export function resolveModelArgument(arg: string | undefined, where: { root: string; cwd: string }): string {
  return arg === undefined ? join(where.root, PATHS.model) : resolve(where.cwd, arg);
}
