import { ConfigError } from '../core/errors.js';
import { readCsvFile } from './csv.js';
import type { LabelledMatrix } from './matrix.js';
import { parseDecimal } from '../core/csv.js';
import { inferTask, type Task, type TaskChoice } from './task.js';

// A prepared data set (numeric feature columns plus the target column) as the forest's matrix.

export interface Dataset {
  readonly file: string;
  readonly task: Task;
  readonly features: string[];
  /** Sorted class labels; y holds indices into it. */
  readonly classes: string[];
  readonly data: LabelledMatrix;
}

/**
 * Regression: the target as `data.values`, no classes. Classification with `classes` given
 * (evaluation): the model's classes; a label outside them is an error. `auto`: prepare's inference
 * on the target column.
 */
export function readDataset(path: string, target: string, taskChoice: TaskChoice = 'classification', classes?: readonly string[]): Dataset {
  const table = readCsvFile(path);
  const { file, header, rows } = table;
  const t = header.indexOf(target);
  if (t < 0) throw new ConfigError(`no target column '${target}' (columns: ${header.join(', ')})`, { file, key: target });
  if (rows.length === 0) throw new ConfigError('no data rows below the header', { file });
  const features = header.filter((_, j) => j !== t);
  const labels = rows.map((r) => r[t]!);
  const task = taskChoice === 'auto' ? inferTask(labels.map((l) => parseDecimal(l.trim()) ?? l)) : taskChoice;
  const regression = task === 'regression';
  const classList = regression ? [] : classes ? [...classes] : [...new Set(labels)].sort();
  const classIndex = new Map(classList.map((c, i) => [c, i]));
  const nRows = rows.length;
  const nFeatures = features.length;
  const X = new Float64Array(nRows * nFeatures);
  const y = new Int32Array(nRows);
  const values = regression ? new Float64Array(nRows) : undefined;
  const columns = header.map((_, j) => j).filter((j) => j !== t);
  for (let i = 0; i < nRows; i++) {
    const row = rows[i]!;
    if (values) {
      const v = labels[i]!.trim() === '' ? NaN : Number(labels[i]);
      if (!Number.isFinite(v)) throw new ConfigError(`non-numeric target ${JSON.stringify(labels[i])} for a regression model`, { file, line: i + 2, key: target });
      values[i] = v;
    } else {
      const k = classIndex.get(labels[i]!);
      if (k === undefined) throw new ConfigError(`class ${JSON.stringify(labels[i])} is not one the model was trained on`, { file, line: i + 2, key: target });
      y[i] = k;
    }
    columns.forEach((j, f) => {
      const text = row[j]!;
      const v = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(v)) throw new ConfigError(`non-numeric value ${JSON.stringify(text)} in numeric column`, { file, line: i + 2, key: header[j] });
      X[f * nRows + i] = v;
    });
  }
  const nClasses = regression ? 1 : classList.length;
  return { file, task, features, classes: classList, data: { nRows, nFeatures, X, y, nClasses, ...(values ? { values } : {}) } };
}
