import { readColumns } from '../core/csv-columns.js';
import { ConfigError } from '../core/errors.js';
import { parseDecimal, shortText } from '../core/csv.js';
import type { LabelledMatrix } from './matrix.js';
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
  // read in chunks into typed columns; only the empty cell is missing (and an error below), the labels stay text
  const table = readColumns(path, { sep: ',', naValues: new Set(), textColumns: [target] });
  const { file, columns: header, nRows } = table;
  const t = header.indexOf(target);
  if (t < 0) throw new ConfigError(`no target column '${target}' (columns: ${header.join(', ')})`, { file, key: target });
  const features = header.filter((_, j) => j !== t);
  const labelColumn = table.data[t]!;
  const labelOf = (i: number) => labelColumn.dict[labelColumn.text![i]! - 1]!;
  const task = taskChoice === 'auto' ? inferTask(labelColumn.dict.map((l) => parseDecimal(l.trim()) ?? l)) : taskChoice;
  const regression = task === 'regression';
  const classList = regression ? [] : classes ? [...classes] : [...labelColumn.dict].sort();
  const classIndex = new Map(classList.map((c, i) => [c, i]));
  // the model's class index of each distinct label text, -1 for one it does not know
  const codeClass = labelColumn.dict.map((l) => classIndex.get(l) ?? -1);
  const nFeatures = features.length;
  // In shared memory: the search's worker threads read the matrix in place, where posting it copied
  // it into every thread (three copies of a 1.6-million-row training set with two workers).
  const X = new Float64Array(new SharedArrayBuffer(nRows * nFeatures * Float64Array.BYTES_PER_ELEMENT));
  const y = new Int32Array(new SharedArrayBuffer(nRows * Int32Array.BYTES_PER_ELEMENT));
  const values = regression ? new Float64Array(nRows) : undefined;
  for (let i = 0; i < nRows; i++) {
    if (values) {
      const label = labelOf(i);
      const v = label.trim() === '' ? NaN : Number(label);
      if (!Number.isFinite(v)) throw new ConfigError(`non-numeric target ${JSON.stringify(label)} for a regression model`, { file, line: table.line(i), key: target });
      values[i] = v;
    } else {
      const k = codeClass[labelColumn.text![i]! - 1]!;
      if (k < 0) throw new ConfigError(`class ${JSON.stringify(labelOf(i))} is not one the model was trained on`, { file, line: table.line(i), key: target });
      y[i] = k;
    }
  }
  header.forEach((name, j) => {
    if (j === t) return;
    const f = j < t ? j : j - 1;
    const num = table.data[j]!.num;
    for (let i = 0; i < nRows; i++) {
      const v = num[i]!;
      if (v !== v) throw new ConfigError(`non-numeric value ${shortText(table.cell(j, i) ?? '')} in numeric column`, { file, line: table.line(i), key: name });
    }
    X.set(num, f * nRows);
  });
  const nClasses = regression ? 1 : classList.length;
  return { file, task, features, classes: classList, data: { nRows, nFeatures, X, y, nClasses, ...(values ? { values } : {}) } };
}
