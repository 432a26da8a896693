import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic.js';
import { loadParamsSection } from '../params/params.js';
import type { TrackedRun } from '../tracking/run.js';
import { SectionReader } from './config.js';
import { formatCsv } from '../core/csv.js';
import { PATHS } from './paths.js';
import { isMissing, readRawCsv } from './raw.js';
import { stratifiedSplit } from './split.js';
import { applyTransform, fitTransform, inferKinds, type Encoding, type Missing, type Scaling, type TransformOptions } from './transform.js';

// `mlops prepare`: raw CSV -> stratified train/test split -> transform fitted on the training part ->
// data/prepared/{train,test}.csv (features, then the target column under its own name) and the
// transform artifact. Every check runs before the first write.

const KEYS = ['input', 'target', 'test_size', 'seed', 'missing', 'encoding', 'scaling', 'categorical'];

interface PrepareConfig extends TransformOptions {
  readonly input: string;
  readonly testSize: number;
  readonly seed: number;
}

function readPrepareConfig(root: string): { config: PrepareConfig; reader: SectionReader } {
  const reader = new SectionReader(loadParamsSection(root, 'prepare'));
  reader.checkKeys([], reader.section.value, KEYS);
  const config: PrepareConfig = {
    input: reader.string(['input']),
    target: reader.string(['target']),
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
  readonly trainRows: number;
  readonly testRows: number;
  readonly features: number;
  readonly droppedRows: number;
  readonly classes: string[];
}

export async function prepare(root: string, run?: TrackedRun): Promise<PrepareSummary> {
  const { config, reader } = readPrepareConfig(root);
  const table = await readRawCsv(join(root, config.input));
  const targetIndex = table.columns.indexOf(config.target);
  if (targetIndex < 0) {
    throw reader.error(['target'], `no column '${config.target}' in ${table.file} (columns: ${table.columns.join(', ')})`);
  }
  for (const name of config.categorical) {
    if (!table.columns.includes(name)) throw reader.error(['categorical'], `no column '${name}' in ${table.file}`);
  }
  const kinds = inferKinds(table, config);
  if (kinds.size === 0) throw new ConfigError('no feature columns besides the target', { file: table.file });
  // rows without a target teach nothing; with `missing: drop`, rows with any missing value go too
  const labels = table.values[targetIndex]!;
  const keep: number[] = [];
  for (let r = 0; r < table.nRows; r++) {
    if (isMissing(labels[r])) continue;
    if (config.missing === 'drop' && table.values.some((col) => isMissing(col[r]))) continue;
    keep.push(r);
  }
  if (keep.length === 0) throw new ConfigError('no usable rows (every row has a missing value)', { file: table.file });
  let split;
  try {
    const s = stratifiedSplit(keep.map((r) => String(labels[r])), config.testSize, config.seed);
    split = { train: s.train.map((i) => keep[i]!), test: s.test.map((i) => keep[i]!) };
  } catch (error) {
    if (error instanceof RangeError) throw new ConfigError(error.message, { file: table.file, key: config.target });
    throw error;
  }
  const transform = fitTransform(table, split.train, kinds, config);
  const header = [...transform.features, config.target];
  const rowsOf = (rows: number[]) => applyTransform(transform, table, rows).map((x, i) => [...x, String(labels[rows[i]!])]);
  const trainCsv = formatCsv(header, rowsOf(split.train));
  const testCsv = formatCsv(header, rowsOf(split.test));
  await writeFileAtomic(join(root, PATHS.train), trainCsv);
  await writeFileAtomic(join(root, PATHS.test), testCsv);
  await writeFileAtomic(join(root, PATHS.transform), JSON.stringify(transform, null, 2) + '\n');
  const summary: PrepareSummary = {
    trainRows: split.train.length,
    testRows: split.test.length,
    features: transform.features.length,
    droppedRows: table.nRows - keep.length,
    classes: [...new Set(keep.map((r) => String(labels[r])))].sort(),
  };
  if (run) {
    await run.logParams(reader.section.value);
    await run.logMetrics({ train_rows: summary.trainRows, test_rows: summary.testRows, features: summary.features, dropped_rows: summary.droppedRows });
    await run.logArtifact(join(root, PATHS.transform));
  }
  return summary;
}
