import { dirname, join } from 'node:path';
import { displayPath } from '../core/display.js';
import { ConfigError } from '../core/errors.js';
import { formatCsv } from '../core/csv.js';
import { argmaxRows } from './forest.js';
import { fromRows } from './matrix.js';
import { readModelFile, readTransformFile } from './model-file.js';
import { readRawCsv } from './raw.js';
import { applyTransform } from './transform.js';

// `mlops predict`: raw rows (the input file's columns; a target column, if present, is ignored) ->
// the saved transform -> the saved model -> one row per input: the predicted class, then one
// probability column per class.

export interface PredictOptions {
  readonly model: string;
  readonly input: string;
  /** Defaults to transform.json beside the model. */
  readonly transform?: string;
}

export async function predict(options: PredictOptions): Promise<string> {
  const saved = await readModelFile(options.model);
  const transformPath = options.transform ?? join(dirname(options.model), 'transform.json');
  const transform = readTransformFile(transformPath);
  if (transform.features.join() !== saved.features.join()) {
    throw new ConfigError("the transform's features differ from the model's; use the transform prepare wrote with this model", { file: displayPath(transformPath) });
  }
  const table = await readRawCsv(options.input);
  const rows = applyTransform(transform, table);
  const proba = saved.model.predictProba(fromRows(rows, saved.features.length));
  const C = saved.classes.length;
  const predicted = argmaxRows(proba, C);
  const header = ['prediction', ...saved.classes.map((c) => `proba_${c}`)];
  return formatCsv(header, Array.from(predicted, (k, i) => [saved.classes[k]!, ...Array.from(proba.subarray(i * C, (i + 1) * C))]));
}
