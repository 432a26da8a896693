import { isAbsolute, join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic.js';
import { formatCsv, listColumns, PANDAS_NA_VALUES, SEPARATORS, shortText, type TypedTable } from '../core/csv.js';
import { loadParamsSection } from '../params/params.js';
import type { TrackedRun } from '../tracking/run.js';
import { SectionReader } from './config.js';
import { PATHS } from './paths.js';
import { isMissing, lineOf, readRawCsv, type Cell } from './raw.js';
import { shuffleSplit, stratifiedSplit, type Split } from './split.js';
import { inferTask, TASK_CHOICES, type Task, type TaskChoice } from './task.js';
import { applyTransform, fitTransform, inferKinds, type Encoding, type Missing, type Scaling, type TransformOptions } from './transform.js';

// `mlops prepare`: raw CSV -> train/test split (stratified for classification) -> transform fitted on
// the training part -> data/prepared/{train,test}.csv (features, then the target column under its own
// name), the raw feature columns of each part in data/split/ (what the drift stage compares), and the
// transform artifact. Every check runs before the first write.

const KEYS = ['input', 'target', 'task', 'sep', 'na_values', 'keep_default_na', 'test_size', 'seed', 'missing', 'encoding', 'scaling', 'categorical'];
const SEP_NAMES: Record<string, string> = { auto: 'auto', ',': ',', ';': ';', '\t': '\t', tab: '\t' };

interface PrepareConfig extends TransformOptions {
  readonly input: string;
  readonly task: TaskChoice;
  /** undefined: detected. */
  readonly sep?: string;
  readonly naValues: string[];
  readonly testSize: number;
  readonly seed: number;
}

function readPrepareConfig(root: string): { config: PrepareConfig; reader: SectionReader } {
  const reader = new SectionReader(loadParamsSection(root, 'prepare'));
  reader.checkKeys([], reader.section.value, KEYS);
  const input = reader.string(['input']);
  const sep = reader.get(['sep']) ?? 'auto';
  if (typeof sep !== 'string' || !Object.hasOwn(SEP_NAMES, sep)) throw reader.error(['sep'], `expected auto, ',', ';' or '\\t' (tab), got ${shortText(sep)}`);
  const keepDefault = reader.get(['keep_default_na']) ?? true;
  if (typeof keepDefault !== 'boolean') throw reader.error(['keep_default_na'], 'expected true or false');
  // like pandas: na_values add to the default list unless keep_default_na is false
  const naValues = [...(keepDefault ? PANDAS_NA_VALUES : []), ...reader.stringList(['na_values'])];
  const config: PrepareConfig = {
    input: isAbsolute(input) ? input : join(root, input),
    target: reader.string(['target']),
    task: reader.choice<TaskChoice>(['task'], TASK_CHOICES, 'auto'),
    sep: SEP_NAMES[sep] === 'auto' ? undefined : SEP_NAMES[sep],
    naValues,
    testSize: reader.number(['test_size'], (n) => n > 0 && n < 1, 'a fraction in (0, 1)', 0.2),
    seed: reader.integer(['seed'], 0, 42),
    missing: reader.choice<Missing>(['missing'], ['drop', 'mean', 'median', 'most_frequent'], 'median'),
    encoding: reader.choice<Encoding>(['encoding'], ['onehot', 'ordinal'], 'onehot'),
    scaling: reader.choice<Scaling>(['scaling'], ['standard', 'none'], 'none'),
    categorical: reader.stringList(['categorical']),
  };
  return { config, reader };
}

export interface PrepareSummary {
  readonly task: Task;
  readonly trainRows: number;
  readonly testRows: number;
  readonly features: number;
  readonly droppedRows: number;
  /** Classification: the sorted class labels; regression: empty. */
  readonly classes: string[];
}

/** Why the target is not among the columns, with a hint when another separator would have found it. */
function missingTarget(reader: SectionReader, table: TypedTable, target: string): ConfigError {
  const other = SEPARATORS.find((s) => s !== table.sep && table.columns.some((c) => c.split(s).some((part) => part.trim() === target)));
  const hint = other ? `; the header has it when split on ${JSON.stringify(other)}: set prepare.sep` : '';
  return reader.error(['target'], `no column '${target}' in ${table.file} (columns: ${listColumns(table.columns)})${hint}`);
}

function splitRows(task: Task, labels: readonly Cell[], keep: readonly number[], config: PrepareConfig, table: TypedTable): Split {
  let split: Split;
  try {
    split = task === 'classification' ? stratifiedSplit(keep.map((r) => String(labels[r])), config.testSize, config.seed) : shuffleSplit(keep.length, config.testSize, config.seed);
  } catch (error) {
    if (error instanceof RangeError) throw new ConfigError(`${error.message} (prepare.task is ${task})`, { file: table.file, key: config.target });
    throw error;
  }
  return { train: split.train.map((i) => keep[i]!), test: split.test.map((i) => keep[i]!) };
}

export async function prepare(root: string, run?: TrackedRun): Promise<PrepareSummary> {
  const { config, reader } = readPrepareConfig(root);
  const table = readRawCsv(config.input, { sep: config.sep, naValues: new Set(config.naValues) });
  const targetIndex = table.columns.indexOf(config.target);
  if (targetIndex < 0) throw missingTarget(reader, table, config.target);
  for (const name of config.categorical) {
    if (!table.columns.includes(name)) throw reader.error(['categorical'], `no column '${name}' in ${table.file}`);
  }
  const kinds = inferKinds(table, config);
  if (kinds.size === 0) throw new ConfigError('no feature columns besides the target', { file: table.file });
  const labels = table.values[targetIndex]!;
  const task = config.task === 'auto' ? inferTask(labels) : config.task;
  if (task === 'regression') {
    const r = labels.findIndex((v) => !isMissing(v) && typeof v !== 'number');
    if (r >= 0) throw new ConfigError(`non-numeric target ${shortText(labels[r])} (prepare.task is regression)`, { file: table.file, line: lineOf(table, r), key: config.target });
  }
  // rows without a target teach nothing; with `missing: drop`, rows with any missing value go too
  const keep: number[] = [];
  for (let r = 0; r < table.nRows; r++) {
    if (isMissing(labels[r])) continue;
    if (config.missing === 'drop' && table.values.some((col) => isMissing(col[r]))) continue;
    keep.push(r);
  }
  if (keep.length === 0) throw new ConfigError('no usable rows (every row has a missing value)', { file: table.file });
  const split = splitRows(task, labels, keep, config, table);
  const transform = fitTransform(table, split.train, kinds, config, config.naValues);
  const header = [...transform.features, config.target];
  const rowsOf = (rows: number[]) => applyTransform(transform, table, rows).map((x, i) => [...x, String(labels[rows[i]!])]);
  // the raw feature cells of each part, missing ones empty, for drift to compare
  const featureColumns = table.columns.flatMap((name, c) => (kinds.has(name) ? [c] : []));
  const rawOf = (rows: number[]) => rows.map((r) => featureColumns.map((c) => table.values[c]![r] ?? ''));
  const outputs: [string, string][] = [
    [PATHS.train, formatCsv(header, rowsOf(split.train))],
    [PATHS.test, formatCsv(header, rowsOf(split.test))],
    [PATHS.rawTrain, formatCsv(featureColumns.map((c) => table.columns[c]!), rawOf(split.train))],
    [PATHS.rawTest, formatCsv(featureColumns.map((c) => table.columns[c]!), rawOf(split.test))],
    [PATHS.transform, JSON.stringify(transform, null, 2) + '\n'],
  ];
  for (const [path, text] of outputs) await writeFileAtomic(join(root, path), text);
  const summary: PrepareSummary = {
    task,
    trainRows: split.train.length,
    testRows: split.test.length,
    features: transform.features.length,
    droppedRows: table.nRows - keep.length,
    classes: task === 'classification' ? [...new Set(keep.map((r) => String(labels[r])))].sort() : [],
  };
  if (run) {
    await run.logParams(reader.section.value);
    await run.logMetrics({ train_rows: summary.trainRows, test_rows: summary.testRows, features: summary.features, dropped_rows: summary.droppedRows });
    await run.setTags({ 'mlops.task': task });
    await run.logArtifact(join(root, PATHS.transform));
  }
  return summary;
}
