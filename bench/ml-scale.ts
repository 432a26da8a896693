import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure, type Measured } from './measure.js';
import { loadAverage, MLOPS_BIN, PROJECT_ROOT } from './util.js';

// The issue-18 table: mlops beside scikit-learn and pandas on make_classification data (7 classes),
// each measurement in its own process (peak memory of the process tree), the two sides interleaved in
// the same run, medians of ML_BENCH_RUNS (default 3). ML_BENCH_ROWS picks the sizes (default
// 2000,20000,200000); ML_BENCH_BIG=0 skips the 2,000,000-row hist and prepare rows; ML_BENCH_PARTS
// (default forest,predict,prepare) picks the tables. Times are in-process (fit, grid, predict) or whole
// process (prepare, both sides); "cpu" is the process's user + system time, the figure to read when
// the machine is loaded.

const PYTHON = '/usr/bin/python3';
const CHILD = join(PROJECT_ROOT, 'dist', 'bench', 'ml-child.js');

const SCRIPT = `
import json, sys, time, os
import numpy as np
mode = sys.argv[1]
def load(d):
    m = json.load(open(os.path.join(d, 'meta.json')))
    X = np.fromfile(os.path.join(d, 'X.f64')).reshape(m['rows'], m['features'])
    return X, np.fromfile(os.path.join(d, 'y.i32'), dtype=np.int32)
def out(**kw): print(json.dumps(kw))
if mode == 'gen':
    from sklearn.datasets import make_classification
    d, n, f, seed = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    X, y = make_classification(n_samples=n, n_features=f, n_informative=f // 2, n_redundant=f // 4, n_classes=7, n_clusters_per_class=1, random_state=seed)
    os.makedirs(d, exist_ok=True)
    X.astype(np.float64).tofile(os.path.join(d, 'X.f64')); y.astype(np.int32).tofile(os.path.join(d, 'y.i32'))
    json.dump({'rows': n, 'features': f}, open(os.path.join(d, 'meta.json'), 'w'))
elif mode == 'gencsv':
    from sklearn.datasets import make_classification
    import pandas as pd
    path, n, f = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    X, y = make_classification(n_samples=n, n_features=f, n_informative=f // 2, n_redundant=f // 4, n_classes=7, n_clusters_per_class=1, random_state=0)
    df = pd.DataFrame(X, columns=[f'x{i}' for i in range(f)])
    df['label'] = np.char.add('class_', y.astype(str))
    df.to_csv(path, index=False, float_format='%.6g')
elif mode == 'fit':
    from sklearn.ensemble import RandomForestClassifier
    X, y = load(sys.argv[2]); t = time.perf_counter(); c = time.process_time()
    RandomForestClassifier(n_estimators=100, random_state=42, n_jobs=1).fit(X, y)
    out(seconds=time.perf_counter() - t, cpu=time.process_time() - c)
elif mode == 'grid':
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GridSearchCV
    X, y = load(sys.argv[2]); t = time.perf_counter()
    s = GridSearchCV(RandomForestClassifier(random_state=42), {'n_estimators': [100]}, cv=5, scoring='f1_macro', n_jobs=2).fit(X, y)
    out(seconds=time.perf_counter() - t, score=float(s.best_score_))
elif mode == 'predict':
    from sklearn.ensemble import RandomForestClassifier
    X, y = load(sys.argv[2]); R, _ = load(sys.argv[3])
    m = RandomForestClassifier(n_estimators=100, random_state=42, n_jobs=1).fit(X, y)
    t = time.perf_counter(); c = time.process_time(); m.predict_proba(R); s = time.perf_counter() - t; c = time.process_time() - c
    out(seconds=s, rowsPerSecond=len(R) / s, cpuRowsPerSecond=len(R) / c, nodes=int(sum(e.tree_.node_count for e in m.estimators_)))
elif mode == 'prepare':
    import pandas as pd
    from sklearn.model_selection import train_test_split
    src, dst = sys.argv[2], sys.argv[3]; t = time.perf_counter()
    df = pd.read_csv(src)
    train, test = train_test_split(df, test_size=0.2, random_state=42, stratify=df['label'])
    features = [c for c in df.columns if c != 'label']
    fill = train[features].median()
    train = train.fillna(fill); test = test.fillna(fill)
    train.to_csv(os.path.join(dst, 'train.csv'), index=False); test.to_csv(os.path.join(dst, 'test.csv'), index=False)
    out(seconds=time.perf_counter() - t)
`;

interface Figure {
  seconds: number;
  /** The process's CPU time (user + system), start-up included. */
  cpu: number;
  peakMB: number;
  score?: number;
  rowsPerSecond?: number;
  /** Rows per CPU second of the timed part alone (predict): steadier than rowsPerSecond on a loaded machine. */
  cpuRowsPerSecond?: number;
}

/** A make_classification CSV (7 classes, `label` column of class_k texts) of n rows x f features at `path`. */
export function generateCsv(path: string, n: number, f: number): void {
  execFileSync(PYTHON, ['-c', SCRIPT, 'gencsv', path, String(n), String(f)]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function python(args: string[]): Promise<Figure> {
  return parse(await measure(PYTHON, ['-c', SCRIPT, ...args]));
}

async function mlops(args: string[]): Promise<Figure> {
  return parse(await measure(process.execPath, [CHILD, ...args]));
}

function parse(m: Measured): Figure {
  const json = JSON.parse(m.stdout.trim().split('\n').pop()!) as Partial<Figure>;
  // in-process times (no interpreter start-up), process-tree peak memory
  return { seconds: json.seconds ?? m.seconds, cpu: m.cpuSeconds, peakMB: m.peakMB, score: json.score, rowsPerSecond: json.rowsPerSecond, cpuRowsPerSecond: json.cpuRowsPerSecond };
}

/** Runs each named measurement `runs` times, interleaved; medians per name. */
async function interleaved(runs: number, tasks: Record<string, () => Promise<Figure>>): Promise<Record<string, Figure>> {
  const all: Record<string, Figure[]> = {};
  for (let r = 0; r < runs; r++) for (const [name, task] of Object.entries(tasks)) (all[name] ??= []).push(await task());
  return Object.fromEntries(
    Object.entries(all).map(([name, figs]) => [
      name,
      {
        seconds: median(figs.map((f) => f.seconds)),
        cpu: median(figs.map((f) => f.cpu)),
        peakMB: median(figs.map((f) => f.peakMB)),
        score: figs[0]!.score,
        rowsPerSecond: figs[0]!.rowsPerSecond === undefined ? undefined : median(figs.map((f) => f.rowsPerSecond!)),
        cpuRowsPerSecond: figs[0]!.cpuRowsPerSecond === undefined ? undefined : median(figs.map((f) => f.cpuRowsPerSecond!)),
      },
    ]),
  );
}

const s = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const ratio = (a: Figure, b: Figure) => `${(a.seconds / b.seconds).toFixed(2)}x (${s(a.seconds)} / ${s(b.seconds)} s), cpu ${(a.cpu / b.cpu).toFixed(2)}x`;
const mem = (a: Figure, b: Figure) => `${Math.round(a.peakMB)} vs ${Math.round(b.peakMB)} MB`;
const label = (n: number, f: number) => `${n.toLocaleString('en-US')} x ${f}`;

export async function run(): Promise<void> {
  const sizes = (process.env.ML_BENCH_ROWS ?? '2000,20000,200000').split(',').map(Number);
  const runs = Number(process.env.ML_BENCH_RUNS ?? 3);
  const big = process.env.ML_BENCH_BIG !== '0';
  const parts = (process.env.ML_BENCH_PARTS ?? 'forest,predict,prepare').split(',');
  const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-scale-'));
  const gen = (name: string, n: number, f: number, seed = 0) => {
    execFileSync(PYTHON, ['-c', SCRIPT, 'gen', join(dir, name), String(n), String(f), String(seed)]);
    return join(dir, name);
  };
  try {
    if (parts.includes('forest')) await forest(sizes, runs, big, gen);
    if (parts.includes('predict')) await predict(runs, gen);
    if (parts.includes('prepare')) await prepareTable(dir, sizes, runs, big);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function forest(sizes: number[], runs: number, big: boolean, gen: (name: string, n: number, f: number, seed?: number) => string): Promise<void> {
  console.log(`\n### forest at scale (medians of ${runs}, interleaved; load ${loadAverage()})`);
  console.log('| rows x features | train grid 1 x 5 folds, mlops / GridSearchCV(n_jobs=2) | peak memory | CV f1 mlops - sklearn | one 100-tree fit / sklearn (1 thread each) | peak memory | hist fit / sklearn exact fit | hist grid / GridSearchCV | CV f1 hist - exact |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const n of sizes) {
    for (const f of n > 20000 ? [16] : [16, 64]) {
      const d = gen(`d${n}x${f}`, n, f);
      const r = await interleaved(runs, {
        fit: () => mlops(['fit', d, 'exact']),
        skFit: () => python(['fit', d]),
        hist: () => mlops(['fit', d, 'hist']),
        grid: () => mlops(['grid', d, 'exact']),
        skGrid: () => python(['grid', d]),
        histGrid: () => mlops(['grid', d, 'hist']),
      });
      console.log(
        `| ${label(n, f)} | ${ratio(r.grid!, r.skGrid!)} | ${mem(r.grid!, r.skGrid!)} | ${(r.grid!.score! - r.skGrid!.score!).toFixed(4)} | ${ratio(r.fit!, r.skFit!)} | ${mem(r.fit!, r.skFit!)} | ${ratio(r.hist!, r.skFit!)} | ${ratio(r.histGrid!, r.skGrid!)} | ${(r.histGrid!.score! - r.grid!.score!).toFixed(4)} |`,
      );
      rmSync(d, { recursive: true, force: true });
    }
  }
  if (big) {
    const d = gen('d2000000x16', 2_000_000, 16);
    const r = await interleaved(1, { hist: () => mlops(['fit', d, 'hist']) });
    console.log(`| 2,000,000 x 16 | | | | | | hist fit ${s(r.hist!.seconds)} s, ${Math.round(r.hist!.peakMB)} MB (scikit-learn's exact fit not run at this size) | | |`);
    rmSync(d, { recursive: true, force: true });
  }

}

async function predict(runs: number, gen: (name: string, n: number, f: number, seed?: number) => string): Promise<void> {
  console.log(`\n### predict_proba, 1,000,000 rows x 16, 100 trees fitted on 20,000 rows (load ${loadAverage()})`);
  const train = gen('p-train', 20000, 16);
  const rows = gen('p-rows', 1_000_000, 16, 0);
  const p = await interleaved(runs, { ours: () => mlops(['predict', train, rows]), sk: () => python(['predict', train, rows]) });
  const perSecond = (x: number) => Math.round(x).toLocaleString('en-US');
  const [ours, sk] = [p.ours!, p.sk!];
  console.log(
    `mlops ${perSecond(ours.rowsPerSecond!)} rows/s (per CPU second ${perSecond(ours.cpuRowsPerSecond!)}), scikit-learn ${perSecond(sk.rowsPerSecond!)} rows/s (per CPU second ${perSecond(sk.cpuRowsPerSecond!)}); ` +
      `ratio ${(ours.rowsPerSecond! / sk.rowsPerSecond!).toFixed(2)}x, by CPU time ${(ours.cpuRowsPerSecond! / sk.cpuRowsPerSecond!).toFixed(2)}x (trees only, no CSV; one thread each, sklearn n_jobs=1)  target: >= 1.00x`,
  );

}

async function prepareTable(dir: string, sizes: number[], runs: number, big: boolean): Promise<void> {
  console.log(`\n### prepare (x 64 features; mlops prepare CLI / pandas read_csv + stratified split + median fill + to_csv; load ${loadAverage()})`);
  console.log('| rows x features | time mlops / pandas | peak memory mlops vs pandas |');
  console.log('|---|---|---|');
  for (const n of [...sizes, ...(big ? [2_000_000] : [])]) {
    const project = join(dir, `prep${n}`);
    mkdirSync(join(project, 'out'), { recursive: true });
    const csv = join(project, 'raw.csv');
    execFileSync(PYTHON, ['-c', SCRIPT, 'gencsv', csv, String(n), '64']);
    writeFileSync(join(project, 'params.yaml'), `prepare:\n  input: raw.csv\n  target: label\n  seed: 42\n`);
    const r = await interleaved(n >= 2_000_000 ? 1 : runs, {
      ours: async () => {
        const m = await measure(MLOPS_BIN, ['prepare'], { cwd: project });
        return { seconds: m.seconds, cpu: m.cpuSeconds, peakMB: m.peakMB };
      },
      // the whole process on both sides (start-up and imports included)
      pandas: async () => {
        const m = await measure(PYTHON, ['-c', SCRIPT, 'prepare', csv, join(project, 'out')]);
        return { seconds: m.seconds, cpu: m.cpuSeconds, peakMB: m.peakMB };
      },
    });
    console.log(`| ${label(n, 64)} | ${ratio(r.ours!, r.pandas!)} | ${mem(r.ours!, r.pandas!)} |`);
    rmSync(project, { recursive: true, force: true });
  }
}
