import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_FOREST_PARAMS, fitForest, predictProba, splitFeatures, type Splitter } from '../src/ml/forest.js';
import { expandGrid } from '../src/ml/grid.js';
import type { LabelledMatrix } from '../src/ml/matrix.js';
import { gridSearch } from '../src/ml/search.js';

// One measured mlops task in its own process (so the parent can sample its peak memory):
//   fit <data> <splitter>        one 100-tree fit (ranking or binning included)
//   grid <data> <splitter>       1 candidate x 5 folds, f1_macro, 2 workers, best refit
//   predict <train> <rows>       fit on <train>, then time predictProba on every row of <rows> (wall and CPU)
// A data folder holds meta.json {rows, features}, X.f64 (row-major doubles) and y.i32.

function load(dir: string): LabelledMatrix {
  const { rows, features } = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { rows: number; features: number };
  const raw = readFileSync(join(dir, 'X.f64'));
  const rowMajor = new Float64Array(raw.buffer, raw.byteOffset, rows * features);
  const X = new Float64Array(rows * features);
  for (let i = 0; i < rows; i++) for (let f = 0; f < features; f++) X[f * rows + i] = rowMajor[i * features + f]!;
  const yRaw = readFileSync(join(dir, 'y.i32'));
  const y = new Int32Array(yRaw.buffer.slice(yRaw.byteOffset, yRaw.byteOffset + rows * 4));
  const nClasses = y.reduce((a, b) => Math.max(a, b), 0) + 1;
  return { nRows: rows, nFeatures: features, X, y, nClasses };
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const [task, dir, arg] = process.argv.slice(2) as [string, string, string];
const data = load(dir);
const params = DEFAULT_FOREST_PARAMS;
const started = performance.now();
const cpu0 = cpu();
const elapsed = () => ({ seconds: (performance.now() - started) / 1000, cpu: cpu() - cpu0 });
if (task === 'fit') {
  fitForest(data, splitFeatures(data, arg as Splitter), params, 42);
  console.log(JSON.stringify(elapsed()));
} else if (task === 'grid') {
  const candidates = expandGrid({ n_estimators: [100] });
  const search = await gridSearch(data, candidates, { folds: 5, scoring: 'f1_macro', seed: 42, engine: 'forest', splitter: arg as Splitter, workers: 2 });
  fitForest(data, splitFeatures(data, arg as Splitter), candidates[search.bestIndex]!.full, 42);
  console.log(JSON.stringify({ ...elapsed(), score: search.candidates[search.bestIndex]!.mean_score }));
} else if (task === 'predict') {
  const forest = fitForest(data, splitFeatures(data, 'exact'), params, 42);
  const rows = load(arg);
  const [t, c] = [performance.now(), cpu()];
  predictProba(forest, rows);
  const seconds = (performance.now() - t) / 1000;
  const nodes = forest.trees.reduce((a, tr) => a + tr.feature.length, 0);
  console.log(JSON.stringify({ seconds, rowsPerSecond: rows.nRows / seconds, cpuRowsPerSecond: rows.nRows / (cpu() - c), nodes }));
} else throw new Error(`unknown task ${task}`);
