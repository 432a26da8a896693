import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { formatCsv } from '../src/core/csv.js';
import { fitModel } from '../src/ml/engine.js';
import { expandGrid } from '../src/ml/grid.js';
import { encodeFeatures, fromRows } from '../src/ml/matrix.js';
import { readRawCsv } from '../src/ml/raw.js';
import { gridSearch } from '../src/ml/search.js';
import { stratifiedSplit } from '../src/ml/split.js';
import { applyTransform, fitTransform, inferKinds } from '../src/ml/transform.js';
import { OBESITY_CSV } from './util.js';

// Our grid search against scikit-learn's GridSearchCV(n_jobs=2) on the real UCI obesity data: the same
// 80% training rows, in the same order (so StratifiedKFold gives both the same folds), the same
// ordinal-encoded features, the same grid, 5 folds, f1_macro, best candidate refit included.

const GRID = { n_estimators: [50, 100], max_depth: [5, 10, null], max_features: ['sqrt', 'log2'] };
const FOLDS = 5;
const PYTHON = '/usr/bin/python3'; // Debian's python3-sklearn, not a pyenv python on PATH

const SKLEARN = `
import json, sys, time
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV
data = np.loadtxt(sys.argv[1], delimiter=',', skiprows=1)
X, y = data[:, :-1], data[:, -1].astype(int)
grid = json.loads(sys.argv[2])
search = GridSearchCV(RandomForestClassifier(random_state=42), grid, cv=int(sys.argv[3]), scoring='f1_macro', n_jobs=2)
start = time.perf_counter()
search.fit(X, y)
wall = time.perf_counter() - start
print(json.dumps({"wall": wall, "best_score": search.best_score_, "best_params": search.best_params_}))
`;

export async function run(): Promise<void> {
  // OBESITY_CSV_PATH overrides the default place (../shared/data beside the checkout), e.g. from a worktree
  const table = await readRawCsv(process.env.OBESITY_CSV_PATH || OBESITY_CSV);
  const options = { target: 'NObeyesdad', missing: 'median', encoding: 'ordinal', scaling: 'none', categorical: [] } as const;
  const labels = table.values[table.columns.indexOf('NObeyesdad')]!.map(String);
  const { train } = stratifiedSplit(labels, 0.2, 42);
  const transform = fitTransform(table, train, inferKinds(table, options), options);
  const rows = applyTransform(transform, table, train);
  const classes = [...new Set(labels)].sort();
  const y = Int32Array.from(train, (r) => classes.indexOf(labels[r]!));
  const data = { ...fromRows(rows, transform.features.length), y, nClasses: classes.length };
  const candidates = expandGrid(GRID as never);
  console.log(`data: ${data.nRows} training rows x ${data.nFeatures} features, ${classes.length} classes; ${candidates.length} candidates x ${FOLDS} folds`);

  const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-'));
  try {
    const csv = join(dir, 'train.csv');
    writeFileSync(csv, formatCsv([...transform.features, 'y'], rows.map((r, i) => [...r, y[i]!])));
    const load = loadavg()[0]!.toFixed(2);
    const started = performance.now();
    const search = await gridSearch(data, candidates, { folds: FOLDS, scoring: 'f1_macro', seed: 42, engine: 'forest', workers: availableParallelism() });
    const best = search.candidates[search.bestIndex]!;
    await fitModel('forest', data, encodeFeatures(data), candidates[search.bestIndex]!.full, 42);
    const ours = (performance.now() - started) / 1000;
    console.log(`ours:    ${ours.toFixed(2)} s wall (${availableParallelism()} workers), best CV f1_macro ${best.mean_score.toFixed(4)} ${JSON.stringify(best.params)}`);
    const sk = JSON.parse(execFileSync(PYTHON, ['-c', SKLEARN, csv, JSON.stringify(GRID), String(FOLDS)], { encoding: 'utf8' })) as {
      wall: number;
      best_score: number;
      best_params: unknown;
    };
    console.log(`sklearn: ${sk.wall.toFixed(2)} s wall (n_jobs=2), best CV f1_macro ${sk.best_score.toFixed(4)} ${JSON.stringify(sk.best_params)}`);
    console.log(`ratio ours/sklearn ${(ours / sk.wall).toFixed(2)}x (target <= 1.5x); f1_macro difference ${(best.mean_score - sk.best_score).toFixed(4)} (target within 0.02); 1-min load average at start ${load}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
