import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { predictionBackend } from '../src/predictions/open.js';
import type { PredictionRecord } from '../src/predictions/record.js';
import { loadAverage, MLOPS_BIN } from './util.js';

// `mlops monitor drift` over a prediction log of 1,000,000 rows x 16 columns (12 numeric, 4
// categorical), 30 daily windows, one numeric and one categorical column drifting from day 15,
// against a registered model's 7,500-row training reference. Beside it, in the same run, scipy does
// the same tests on the same windows, reading the same SQLite log (ks_2samp / chi2_contingency,
// wasserstein_distance, PSI with numpy, Bonferroni), and the p-values are compared.
// Both sides are timed as whole processes with /usr/bin/time (wall and CPU time, peak RSS). Target:
// < 10 s. mlops reads the windows in worker threads (one per core, each holding one window); memory
// is bounded when the peak RSS over 30 windows is about that over 3.

const PYTHON = '/usr/bin/python3';
const ROWS = 1_000_000;
const DAYS = 30;
const TRAIN_ROWS = 10_000;
const NUMERIC = 12;
const CATEGORIES = [['a', 'b', 'c'], ['north', 'south', 'east', 'west'], ['x', 'y'], ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']];
const START = Date.parse('2026-10-01T00:00:00Z');
const DAY = 86_400_000;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}

/** One raw row; `drift` shifts num_3 by half a standard deviation and tilts cat_1. */
function row(u: () => number, drift: boolean): Record<string, string | number> {
  const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const r: Record<string, string | number> = {};
  for (let j = 0; j < NUMERIC; j++) {
    // num_0: an integer with 4 values (chi-square under --test auto); the rest continuous, rounded as logged data is.
    r[`num_${j}`] = j === 0 ? Math.floor(u() * 4) : Math.round((10 * j + (1 + j / 4) * normal() + (drift && j === 3 ? 0.5 * (1 + j / 4) : 0)) * 1000) / 1000;
  }
  CATEGORIES.forEach((values, j) => {
    const tilt = drift && j === 1 ? 0.5 : 0;
    r[`cat_${j}`] = u() < tilt ? values[0]! : values[Math.floor(u() * values.length)]!;
  });
  return r;
}

const PARAMS = `prepare:
  input: data/raw.csv
  target: label
  test_size: 0.25
  seed: 1
train:
  cv_folds: 2
  seed: 1
  grid:
    n_estimators: [5]
    max_depth: [4]
evaluate:
  permutation_repeats: 1
`;

function mlops(dir: string, ...args: string[]): void {
  const r = spawnSync(process.execPath, [MLOPS_BIN, ...args], { cwd: dir, env: { ...process.env, CI: 'true', MLOPS_ROOT: dir }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mlops ${args.join(' ')}: ${r.stderr}`);
}

/** The project: raw data, a trained model registered as bench@champion (its reference: 7,500 rows). */
export function makeProject(dir: string): void {
  const u = rng(1);
  const names = [...Array.from({ length: NUMERIC }, (_, j) => `num_${j}`), ...CATEGORIES.map((_, j) => `cat_${j}`)];
  const lines = [[...names, 'label'].join(',')];
  for (let i = 0; i < TRAIN_ROWS; i++) {
    const r = row(u, false);
    lines.push([...names.map((n) => r[n]), (r.num_1 as number) > 10 ? 'high' : 'low'].join(','));
  }
  execFileSync('mkdir', ['-p', join(dir, 'data'), join(dir, '.mlops')]);
  writeFileSync(join(dir, 'data', 'raw.csv'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'params.yaml'), PARAMS);
  execFileSync('git', ['init', '-q'], { cwd: dir });
  mlops(dir, 'prepare');
  mlops(dir, 'train');
  mlops(dir, 'models', 'register', 'bench', '--alias', 'champion');
}

/** 1,000,000 logged predictions spread evenly over 30 days, written through the log's own SQLite store. */
export async function writeLog(dir: string): Promise<void> {
  const store = await predictionBackend(join(dir, '.mlops', 'predictions.db'), dir).sink();
  const u = rng(2);
  const step = (DAYS * DAY) / ROWS;
  let batch: PredictionRecord[] = [];
  for (let i = 0; i < ROWS; i++) {
    const time = START + Math.floor(i * step);
    const input = row(u, time >= START + 15 * DAY);
    const p = u();
    batch.push({ request_id: `r${i}`, time: new Date(time).toISOString(), model: { name: 'bench', version: 1 }, input, prediction: p > 0.5 ? 'high' : 'low', probabilities: { high: p, low: 1 - p }, latency_ms: 1 });
    if (batch.length === 20_000) {
      await store.write(batch);
      batch = [];
    }
  }
  if (batch.length) await store.write(batch);
  await store.close();
}

const SCIPY = `
import sys, json, sqlite3, time
import numpy as np
from scipy import stats
db, reference, start, days, tests = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
t0 = time.perf_counter()
import csv
with open(reference) as f:
    rows = list(csv.DictReader(f))
cols = list(tests.keys())
ref = {c: [r[c] for r in rows] for c in cols}
for c in cols:
    if tests[c]["type"] == "numeric":
        ref[c] = np.array(ref[c], dtype=float)
from datetime import datetime, timedelta, timezone
t_start = datetime.fromisoformat(start.replace("Z", "+00:00"))
con = sqlite3.connect(db)
out = []
for d in range(days):
    a = (t_start + timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    b = (t_start + timedelta(days=d + 1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    win = {c: [] for c in cols}
    for (text,) in con.execute("SELECT input FROM predictions WHERE model = ? AND version IN (1) AND time >= ? AND time < ? ORDER BY time, id", ("bench", a, b)):
        x = json.loads(text)
        for c in cols:
            win[c].append(x[c])
    res = {}
    for c in cols:
        t = tests[c]
        if t["type"] == "numeric":
            cur = np.array(win[c], dtype=float)
            r = ref[c]
            w = stats.wasserstein_distance(r, cur) / max(np.std(r), 1e-9)
            edges = np.unique(np.quantile(r, [k / 10 for k in range(1, 10)]))
            share = lambda v: np.maximum(np.bincount(np.searchsorted(edges, v, side="left"), minlength=len(edges) + 1) / len(v), 1e-4)
            rs, cs = share(r), share(cur)
            psi = float(np.sum((cs - rs) * np.log(cs / rs)))
            ref_labels, cur_labels = [str(v) for v in r], [str(v) for v in cur]
        else:
            ref_labels, cur_labels = ref[c], [str(v) for v in win[c]]
            w = None
        if t["test"] == "ks":
            p = float(stats.ks_2samp(ref[c], np.array(win[c], dtype=float)).pvalue)
        else:
            if t["type"] == "numeric":
                ref_labels = [repr(float(v)).removesuffix(".0") for v in ref[c]]
                cur_labels = [repr(float(v)).removesuffix(".0") for v in win[c]]
            cats = sorted(set(ref_labels) | set(cur_labels))
            table = np.array([[ref_labels.count(k) for k in cats], [cur_labels.count(k) for k in cats]])
            p = float(stats.chi2_contingency(table, correction=False)[1])
        if t["type"] != "numeric":
            rl, cl = np.array(ref_labels), np.array(cur_labels)
            cats = list(dict.fromkeys(list(ref_labels) + list(cur_labels)))
            rs = np.maximum(np.array([np.sum(rl == k) for k in cats]) / len(rl), 1e-4)
            cs = np.maximum(np.array([np.sum(cl == k) for k in cats]) / len(cl), 1e-4)
            psi = float(np.sum((cs - rs) * np.log(cs / rs)))
        res[c] = {"p": p, "p_adj": min(1.0, p * len(cols)), "distance": w if w is not None else psi, "psi": psi}
    out.append(res)
print(json.dumps({"seconds": time.perf_counter() - t0, "windows": out}))
`;

interface Timed {
  seconds: number;
  /** User + system CPU seconds of the process and its threads: what a loaded machine does not inflate. */
  cpu: number;
  rssMb: number;
  stdout: string;
}

/** A whole process under /usr/bin/time: wall seconds and peak resident memory. */
function timed(file: string, args: string[], cwd: string): Timed {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', file, ...args], { cwd, env: { ...process.env, CI: 'true', MLOPS_ROOT: cwd }, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${file} ${args.slice(0, 3).join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const [seconds, kb, user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { seconds: seconds!, cpu: user! + sys!, rssMb: kb! / 1024, stdout: r.stdout };
}

export async function run(): Promise<void> {
  console.log(`load average: ${loadAverage()}`);
  const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-monitor-'));
  try {
    makeProject(dir);
    const t = performance.now();
    await writeLog(dir);
    console.log(`setup: model registered, ${ROWS.toLocaleString('en')} rows x 16 columns logged over ${DAYS} days in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const from = new Date(START).toISOString();
    const check = (days: number) =>
      timed(process.execPath, [MLOPS_BIN, 'monitor', 'drift', 'models:/bench@champion', '--from', from, '--to', new Date(START + days * DAY).toISOString(), '--window', '1d', '--json'], dir);
    const ours = check(DAYS);
    const small = check(3);
    const report = JSON.parse(ours.stdout) as { windows: { rows: number; drift: boolean; drifted_columns: string[]; columns: Record<string, { type: string; test: string; p_value: number; distance: number; psi: number }> }[] };
    const drifted = report.windows.filter((w) => w.drift).length;
    console.log(
      `mlops  monitor drift, ${report.windows.length} daily windows of ~${report.windows[0]!.rows} rows x 16 columns: ${ours.seconds.toFixed(2)} s wall, ${ours.cpu.toFixed(2)} s CPU (target < 10 s), peak RSS ${ours.rssMb.toFixed(0)} MB ` +
        `(3 windows: ${small.rssMb.toFixed(0)} MB); ${drifted} windows drift (${[...new Set(report.windows.flatMap((w) => w.drifted_columns))].join(', ')})`,
    );
    try {
      execFileSync(PYTHON, ['-c', 'import scipy, numpy'], { stdio: 'ignore' });
    } catch {
      console.log(`scipy not found for ${PYTHON}: apt-get install -y python3-scipy (our figures only)`);
      return;
    }
    const tests = Object.fromEntries(Object.entries(report.windows[0]!.columns).map(([c, v]) => [c, { type: v.type, test: v.test }]));
    const reference = execFileSync(process.execPath, [MLOPS_BIN, 'models', 'show', 'bench', '1', '--json'], { cwd: dir, env: { ...process.env, MLOPS_ROOT: dir }, encoding: 'utf8' });
    const md5 = (JSON.parse(reference) as { files: Record<string, string> }).files['reference.csv']!;
    const refPath = join(dir, '.mlops', 'cache', 'files', 'md5', md5.slice(0, 2), md5.slice(2));
    const scipy = timed(PYTHON, ['-c', SCIPY, join(dir, '.mlops', 'predictions.db'), refPath, from, String(DAYS), JSON.stringify(tests)], dir);
    const theirs = JSON.parse(scipy.stdout) as { seconds: number; windows: Record<string, { p: number; distance: number; psi: number }>[] };
    let compared = 0;
    let worst = 0;
    let worstDistance = 0;
    report.windows.forEach((w, i) => {
      for (const [c, v] of Object.entries(w.columns)) {
        const s = theirs.windows[i]![c]!;
        compared++;
        worst = Math.max(worst, Math.abs(v.p_value - s.p) / Math.max(s.p, 1e-300));
        worstDistance = Math.max(worstDistance, Math.abs(v.distance - s.distance), Math.abs(v.psi - s.psi));
      }
    });
    console.log(
      `scipy  same tests on the same windows (sqlite3 + json + ks_2samp/chi2_contingency + wasserstein_distance + numpy PSI): ${scipy.seconds.toFixed(2)} s wall, ${scipy.cpu.toFixed(2)} s CPU, peak RSS ${scipy.rssMb.toFixed(0)} MB; ` +
        `mlops x${(scipy.seconds / ours.seconds).toFixed(2)} faster (wall), x${(scipy.cpu / ours.cpu).toFixed(2)} (CPU)`,
    );
    console.log(`agreement over ${compared} window-columns: largest relative p-value difference ${worst.toExponential(2)}, largest distance/PSI difference ${worstDistance.toExponential(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
