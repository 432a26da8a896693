import { dirname, join } from 'node:path';
import { displayPath } from '../core/display.js';
import { ConfigError } from '../core/errors.js';
import { formatCsv } from '../core/csv.js';
import { argmaxRows } from './forest.js';
import { fromRows } from './matrix.js';
import { readModelFile, readTransformFile, type SavedModel } from './model-file.js';
import { readRawCsv, type RawTable } from './raw.js';
import { applyTransform, type Transform } from './transform.js';

// `mlops predict`: raw rows (the input file's columns; a target column, if present, is ignored) ->
// the saved transform -> the saved model -> one row per input: the predicted class, then one
// probability column per class. `mlops serve` uses the same Predictor on rows from requests.

export interface PredictOptions {
  readonly model: string;
  readonly input: string;
  /** Defaults to transform.json beside the model. */
  readonly transform?: string;
}

/** Predictions for a batch: the class index per row and the row-major probabilities (nRows x classes). */
export interface Predictions {
  readonly predicted: Int32Array;
  readonly proba: Float64Array;
}

/** A saved model with its transform, checked to belong together, ready for raw tables. */
export class Predictor {
  constructor(
    readonly saved: SavedModel,
    readonly transform: Transform,
  ) {}

  get classes(): string[] {
    return this.saved.classes;
  }

  predict(table: RawTable): Predictions {
    const rows = applyTransform(this.transform, table);
    const proba = this.saved.model.predictProba(fromRows(rows, this.saved.features.length));
    return { predicted: argmaxRows(proba, this.saved.classes.length), proba };
  }
}

export async function loadPredictor(model: string, transform?: string): Promise<Predictor> {
  const saved = await readModelFile(model);
  const transformPath = transform ?? join(dirname(model), 'transform.json');
  const fitted = readTransformFile(transformPath);
  if (fitted.features.join() !== saved.features.join()) {
    throw new ConfigError("the transform's features differ from the model's; use the transform prepare wrote with this model", { file: displayPath(transformPath) });
  }
  return new Predictor(saved, fitted);
}

export async function predict(options: PredictOptions): Promise<string> {
  const predictor = await loadPredictor(options.model, options.transform);
  const { predicted, proba } = predictor.predict(await readRawCsv(options.input));
  const { classes } = predictor;
  const C = classes.length;
  const header = ['prediction', ...classes.map((c) => `proba_${c}`)];
  return formatCsv(header, Array.from(predicted, (k, i) => [classes[k]!, ...Array.from(proba.subarray(i * C, (i + 1) * C))]));
}
