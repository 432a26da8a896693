import { ConfigError } from '../core/errors.js';
import { readCsvFile } from './csv.js';
import type { LabelledMatrix } from './matrix.js';

// A prepared data set (numeric feature columns plus the target column) as the forest's matrix.

export interface Dataset {
  readonly file: string;
  readonly features: string[];
  /** Sorted class labels; y holds indices into it. */
  readonly classes: string[];
  readonly data: LabelledMatrix;
}

/** `classes` given (evaluation): the model's classes; a label outside them is an error. */
export function readDataset(path: string, target: string, classes?: readonly string[]): Dataset {
  const table = readCsvFile(path);
  const { file, header, rows } = table;
  const t = header.indexOf(target);
  if (t < 0) throw new ConfigError(`no target column '${target}' (columns: ${header.join(', ')})`, { file, key: target });
  if (rows.length === 0) throw new ConfigError('no data rows below the header', { file });
  const features = header.filter((_, j) => j !== t);
  const labels = rows.map((r) => r[t]!);
  const classList = classes ? [...classes] : [...new Set(labels)].sort();
  const classIndex = new Map(classList.map((c, i) => [c, i]));
  const nRows = rows.length;
  const nFeatures = features.length;
  const X = new Float64Array(nRows * nFeatures);
  const y = new Int32Array(nRows);
  const columns = header.map((_, j) => j).filter((j) => j !== t);
  for (let i = 0; i < nRows; i++) {
    const row = rows[i]!;
    const k = classIndex.get(labels[i]!);
    if (k === undefined) throw new ConfigError(`class ${JSON.stringify(labels[i])} is not one the model was trained on`, { file, line: i + 2, key: target });
    y[i] = k;
    columns.forEach((j, f) => {
      const text = row[j]!;
      const v = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(v)) throw new ConfigError(`non-numeric value ${JSON.stringify(text)} in numeric column`, { file, line: i + 2, key: header[j] });
      X[f * nRows + i] = v;
    });
  }
  return { file, features, classes: classList, data: { nRows, nFeatures, X, y, nClasses: classList.length } };
}
