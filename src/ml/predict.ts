import { dirname, join } from 'node:path';
import { displayPath } from '../core/display.js';
import { ConfigError } from '../core/errors.js';
import { readColumns } from '../core/csv-columns.js';
import { formatCsv, formatNumber, formatRows, listColumns, PANDAS_NA_VALUES } from '../core/csv.js';
import { argmaxRows } from './forest.js';
import { readModelFile, readTransformFile, type SavedModel } from './model-file.js';
import type { RawTable } from './raw.js';
import { transformMatrix, type Transform } from './transform.js';

// `mlops predict`: raw rows (the input file's columns; a target column, if present, is ignored) ->
// the saved transform -> the saved model -> one row per input: the id (with --id-column), then the
// predicted class and one probability column per class, or for regression the predicted value.
// Numbers are printed to 15 significant digits (no 0.8250000000000001). `mlops serve` uses the same
// Predictor on rows from requests.

export interface PredictOptions {
  /** A model file path (see paths.ts resolveModelArgument). */
  readonly model: string;
  readonly input: string;
  /** Defaults to transform.json beside the model. */
  readonly transform?: string;
  /** A column of the input copied, as written, to the first output column. */
  readonly idColumn?: string;
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

  /** The model's output: row-major class probabilities (rows x classes), or one value a row for regression. */
  output(table: RawTable): Float64Array {
    return this.saved.model.predictProba(transformMatrix(this.transform, table));
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

// Rows transformed, predicted and written at a time: memory holds the input's typed columns and one
// block's features, probabilities and text, whatever the number of rows.
const BLOCK_ROWS = 1 << 16;

/**
 * Predicts every row of `options.input` and hands the CSV text to `write` in blocks (header first), so
 * a file of millions of rows is never one string; returns the number of rows predicted.
 */
export async function predict(options: PredictOptions, write: (text: string) => void | Promise<void>): Promise<number> {
  const predictor = await loadPredictor(options.model, options.transform);
  const { saved, transform } = predictor;
  const id = options.idColumn;
  // Typed columns read chunk by chunk: an input larger than one JavaScript string reads as well.
  const table = readColumns(options.input, { naValues: new Set(transform.na_values ?? PANDAS_NA_VALUES), textColumns: id === undefined || transform.columns.some((c) => c.name === id) ? [] : [id] });
  const idIndex = id === undefined ? -1 : table.columns.indexOf(id);
  if (id !== undefined && idIndex < 0) throw new ConfigError(`no id column '${id}' (columns: ${listColumns(table.columns)})`, { file: table.file, line: 1 });
  const idOf = (r: number) => (idIndex < 0 ? [] : [String(table.cell(idIndex, r) ?? '')]);
  const C = saved.classes.length;
  const header = [...(id === undefined ? [] : [id]), ...(saved.task === 'regression' ? ['prediction'] : ['prediction', ...saved.classes.map((c) => `proba_${c}`)])];
  // The header goes out with the first block: an input the transform refuses (checked there) has
  // nothing written, not even to stdout.
  let text = formatCsv(header, []);
  for (let start = 0; start < table.nRows; start += BLOCK_ROWS) {
    const end = Math.min(table.nRows, start + BLOCK_ROWS);
    const output = saved.model.predictProba(transformMatrix(transform, table, start, end));
    const rows: string[][] = [];
    if (saved.task === 'regression') output.forEach((v, i) => rows.push([...idOf(start + i), formatNumber(v)]));
    else argmaxRows(output, C).forEach((k, i) => rows.push([...idOf(start + i), saved.classes[k]!, ...Array.from(output.subarray(i * C, (i + 1) * C), formatNumber)]));
    await write(text + formatRows(rows));
    text = '';
  }
  if (text) await write(text);
  return table.nRows;
}
