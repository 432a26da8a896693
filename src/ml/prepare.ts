import { isAbsolute, join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { tempName } from '../core/atomic.js';
import { readColumns, type ColumnTable } from '../core/csv-columns.js';
import { csvField, formatCsv, listColumns, PANDAS_NA_VALUES, SEPARATORS, shortText } from '../core/csv.js';
import { loadParamsSection } from '../params/params.js';
import type { TrackedRun } from '../tracking/run.js';
import { SectionReader } from './config.js';
import { PATHS } from './paths.js';
import { isMissing, type Cell } from './raw.js';
import { shuffleSplit, stratifiedSplit, type Split } from './split.js';
import { inferTask, TASK_CHOICES, type Task, type TaskChoice } from './task.js';
import { applyTransform, featureGroups, fitTransform, inferKinds, type Encoding, type Missing, type Scaling, type TransformOptions } from './transform.js';

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
function missingTarget(reader: SectionReader, table: ColumnTable, target: string): ConfigError {
  const other = SEPARATORS.find((s) => s !== table.sep && table.columns.some((c) => c.split(s).some((part) => part.trim() === target)));
  const hint = other ? `; the header has it when split on ${JSON.stringify(other)}: set prepare.sep` : '';
  return reader.error(['target'], `no column '${target}' in ${table.file} (columns: ${listColumns(table.columns)})${hint}`);
}

function splitRows(task: Task, labels: readonly Cell[], keep: readonly number[], config: PrepareConfig, table: ColumnTable): Split {
  let split: Split;
  try {
    split = task === 'classification' ? stratifiedSplit(keep.map((r) => String(labels[r])), config.testSize, config.seed) : shuffleSplit(keep.length, config.testSize, config.seed);
  } catch (error) {
    if (error instanceof RangeError) throw new ConfigError(`${error.message} (prepare.task is ${task})`, { file: table.file, key: config.target });
    throw error;
  }
  return { train: split.train.map((i) => keep[i]!), test: split.test.map((i) => keep[i]!) };
}

/** Rows formatted and written per batch, so the output text never sits in memory whole. */
const BATCH = 4096;

/**
 * Writes files beside their final places, a group of them at a time (one producer writes to each file
 * of its group), then renames them all: a failure on the way leaves none of them changed.
 */
function writeFilesAtomic(root: string, groups: [string[], (write: ((text: string) => void)[]) => void][]): void {
  const temps: [string, string][] = [];
  try {
    for (const [paths, produce] of groups) {
      const fds = paths.map((path) => {
        const target = join(root, path);
        mkdirSync(dirname(target), { recursive: true });
        const temp = tempName(target);
        temps.push([temp, target]);
        return openSync(temp, 'w');
      });
      try {
        produce(fds.map((fd) => (text: string) => writeSync(fd, text)));
      } finally {
        for (const fd of fds) closeSync(fd);
      }
    }
    for (const [temp, target] of temps) renameSync(temp, target);
  } catch (error) {
    for (const [temp] of temps) rmSync(temp, { force: true });
    throw error;
  }
}

export async function prepare(root: string, run?: TrackedRun): Promise<PrepareSummary> {
  const { config, reader } = readPrepareConfig(root);
  const table = readColumns(config.input, { sep: config.sep, naValues: new Set(config.naValues) });
  const targetIndex = table.columns.indexOf(config.target);
  if (targetIndex < 0) throw missingTarget(reader, table, config.target);
  for (const name of config.categorical) {
    if (!table.columns.includes(name)) throw reader.error(['categorical'], `no column '${name}' in ${table.file}`);
  }
  const kinds = inferKinds(table, config);
  if (kinds.size === 0) throw new ConfigError('no feature columns besides the target', { file: table.file });
  const labels = Array.from({ length: table.nRows }, (_, r) => table.cell(targetIndex, r));
  const task = config.task === 'auto' ? inferTask(labels) : config.task;
  if (task === 'regression') {
    const r = labels.findIndex((v) => !isMissing(v) && typeof v !== 'number');
    if (r >= 0) throw new ConfigError(`non-numeric target ${shortText(labels[r])} (prepare.task is regression)`, { file: table.file, line: table.line(r), key: config.target });
  }
  // rows without a target teach nothing; with `missing: drop`, rows with any missing value go too
  const keep: number[] = [];
  const nColumns = table.columns.length;
  rows: for (let r = 0; r < table.nRows; r++) {
    if (isMissing(labels[r])) continue;
    if (config.missing === 'drop') for (let c = 0; c < nColumns; c++) if (isMissing(table.cell(c, r))) continue rows;
    keep.push(r);
  }
  if (keep.length === 0) throw new ConfigError('no usable rows (every row has a missing value)', { file: table.file });
  const split = splitRows(task, labels, keep, config, table);
  const transform = fitTransform(table, split.train, kinds, config, config.naValues);
  const header = [...transform.features, config.target];
  // the raw feature cells of each part, missing ones empty, for drift to compare
  const featureColumns = table.columns.flatMap((name, c) => (kinds.has(name) ? [c] : []));
  const rawHeader = featureColumns.map((c) => table.columns[c]!);
  // a numeric column neither imputed here nor scaled prints as the raw cell: format that number once
  const groups = featureGroups(transform);
  const same = transform.columns.map((col) => col.kind === 'numeric' && col.mean === 0 && col.scale === 1);
  const allSame = same.every(Boolean);
  /** The prepared and raw CSV lines of `rows`, batch by batch (the text of a whole file never sits in memory). */
  const part = (rows: number[]) => {
    const prepared: string[] = [formatCsv(header, []).slice(0, -1)];
    const raw: string[] = [formatCsv(rawHeader, []).slice(0, -1)];
    return ([toPrepared, toRaw]: ((text: string) => void)[]) => {
      const cells: string[] = [];
      for (let i = 0; i < rows.length; i += BATCH) {
        const batch = rows.slice(i, i + BATCH);
        // the transform's numbers are only needed for the columns that do not print as the raw cell
        const values = allSame ? [] : applyTransform(transform, table, batch);
        batch.forEach((r, b) => {
          const x = values[b];
          const out: string[] = [];
          featureColumns.forEach((c, j) => {
            const v = table.cell(c, r);
            const text = v === null ? '' : csvField(v);
            cells[j] = text;
            if (same[j]) out.push(v === null ? csvField(transform.columns[j]!.fill!) : text);
            else for (const f of groups[j]!.features) out.push(csvField(x![f]!));
          });
          out.push(csvField(String(labels[r])));
          prepared.push(out.join(','));
          raw.push(cells.join(','));
        });
        toPrepared!(prepared.join('\n') + '\n');
        toRaw!(raw.join('\n') + '\n');
        prepared.length = 0;
        raw.length = 0;
      }
      if (prepared.length) toPrepared!(prepared.join('\n') + '\n');
      if (raw.length) toRaw!(raw.join('\n') + '\n');
    };
  };
  writeFilesAtomic(root, [
    [[PATHS.train, PATHS.rawTrain], part(split.train)],
    [[PATHS.test, PATHS.rawTest], part(split.test)],
    [[PATHS.transform], ([write]) => write!(JSON.stringify(transform, null, 2) + '\n')],
  ]);
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
