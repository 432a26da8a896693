import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCsv } from '../src/core/csv.js';
import { generateObesity } from '../src/ml/synthetic.js';
import { applyTransform } from '../src/ml/transform.js';
import { PATHS } from '../src/ml/paths.js';
import { openPredictionReader } from '../src/predictions/open.js';
import { Project } from '../src/project/project.js';
import { loadServedModel } from '../src/serve/model.js';
import { fromSplit } from '../src/serve/input.js';
import { MLOPS_BIN, OBESITY_CSV, timeCommand } from './util.js';

// `mlops serve` under load on loopback: autocannon against single-row /invocations and /predict with
// the prediction log on (SQLite, the default), 1 and 2 workers; then a 10,000-row /invocations batch,
// beside scikit-learn's predict_proba on the same rows with an equivalent forest (same training rows
// and features, 100 trees, max_depth 10, sqrt features), in the same run. The load generator shares
// the machine's cores with the server, as it would with wrk on one host.

const PYTHON = '/usr/bin/python3'; // Debian's python3-sklearn
const TREES = 100;
const DEPTH = 10;
const DURATION_S = 10;
const CONNECTIONS = 32;
const BATCH_ROWS = 10_000;

const PARAMS = `prepare:
  input: data/raw/obesity.csv
  target: NObeyesdad
  test_size: 0.2
  seed: 42
  missing: median
  encoding: onehot
train:
  cv_folds: 2
  seed: 42
  grid:
    n_estimators: [${TREES}]
    max_depth: [${DEPTH}]
    max_features: [sqrt]
`;

const SKLEARN = `
import json, sys, time
import numpy as np
from sklearn.ensemble import RandomForestClassifier
train = np.loadtxt(sys.argv[1], delimiter=',', skiprows=1, dtype=str)
X, y = train[:, :-1].astype(float), train[:, -1]
batch = np.loadtxt(sys.argv[2], delimiter=',', skiprows=1)
forest = RandomForestClassifier(n_estimators=${TREES}, max_depth=${DEPTH}, max_features='sqrt', random_state=0).fit(X, y)
times = []
for _ in range(5):
    start = time.perf_counter()
    forest.predict_proba(batch)
    times.append(time.perf_counter() - start)
print(json.dumps({"median": sorted(times)[2], "rows": len(batch)}))
`;

interface Result {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx': number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<Result>;

async function startServe(dir: string, workers: number): Promise<{ url: string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [MLOPS_BIN, 'serve', '--port', '0', '--workers', String(workers), 'models:/clf@champion'], {
    cwd: dir,
    env: { ...process.env, CI: 'true', MLOPS_ROOT: dir },
    stdio: ['ignore', 'ignore', 'pipe'], // access logs on (not a terminal), written to /dev/null
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /serving .* at (http:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.on('close', () => reject(new Error(`mlops serve exited: ${stderr}`)));
  });
  return {
    url,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

const loggedRows = async (dir: string) => {
  const reader = await openPredictionReader(Project.open(dir));
  try {
    return await reader.count({});
  } finally {
    await reader.close();
  }
};

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-serve-'));
  try {
    const data = process.env.OBESITY_CSV_PATH || OBESITY_CSV;
    const csv = existsSync(data) ? readFileSync(data, 'utf8') : generateObesity(2111, 7);
    writeFileSync(join(dir, 'params.yaml'), PARAMS);
    execFileSync('mkdir', ['-p', join(dir, 'data', 'raw'), join(dir, '.mlops')]);
    writeFileSync(join(dir, 'data', 'raw', 'obesity.csv'), csv);
    writeFileSync(join(dir, '.mlops', 'config'), '');
    for (const args of [['prepare'], ['train'], ['models', 'register', 'clf', '--alias', 'champion']]) timeCommand(process.execPath, [MLOPS_BIN, ...args], dir, { MLOPS_ROOT: dir });

    const model = await loadServedModel(Project.open(dir), 'models:/clf@champion');
    const lines = csv.trim().split(/\r?\n/);
    const header = lines[0]!.split(',');
    const target = header.indexOf('NObeyesdad');
    const columns = header.filter((_, j) => j !== target);
    const parsed = lines.slice(1).map((l) => l.split(',').filter((_, j) => j !== target).map((v) => (Number.isNaN(Number(v)) ? v : Number(v))));
    const record = Object.fromEntries(columns.map((c, j) => [c, parsed[0]![j]]));
    const batch = { columns, data: Array.from({ length: BATCH_ROWS }, (_, i) => parsed[i % parsed.length]!) };
    console.log(`model: ${TREES} trees, max_depth ${DEPTH}, ${model.predictor.transform.features.length} features, ${model.predictor.classes.length} classes; load at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

    const { default: autocannon } = (await import('autocannon' as string)) as { default: Autocannon };
    const bodies: Record<string, unknown> = { '/invocations': { dataframe_split: { columns, data: [parsed[0]] } }, '/predict': record };
    for (const workers of [1, 2]) {
      const server = await startServe(dir, workers);
      const before = await loggedRows(dir);
      let answered = 0;
      for (const [route, body] of Object.entries(bodies)) {
        // A short warm-up (JIT, first model page-in), then the measured run.
        await autocannon({ url: server.url + route, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), connections: CONNECTIONS, duration: 2 });
        const r = await autocannon({ url: server.url + route, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), connections: CONNECTIONS, duration: DURATION_S });
        // Figures of refused requests would measure the error path: a bench on bad input stops.
        if (r.non2xx > 0) throw new Error(`${route}: ${r.non2xx} of the requests were refused`);
        console.log(`${workers} worker${workers > 1 ? 's' : ''} ${route.padEnd(12)} ${Math.round(r.requests.average)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  (${CONNECTIONS} connections, ${DURATION_S} s; non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts})  target >= 5000 req/s, p99 < 10 ms`);
      }
      // Every 2xx (warm-ups included) must be in the log once the server has stopped.
      const stats = await fetch(`${server.url}/metrics`).then((r) => r.text());
      for (const m of stats.matchAll(/^mlops_predicted_rows_total (\d+)$/gm)) answered = Number(m[1]);
      const code = await server.stop();
      const logged = (await loggedRows(dir)) - before;
      console.log(`${workers} worker${workers > 1 ? 's' : ''} log: ${logged} rows written for ${answered} rows predicted (${logged === answered ? 'none lost' : `${answered - logged} LOST`}), exit ${code}`);
    }

    // Batch: the 10,000-row request end to end, and the model's own time on the same rows in-process.
    const server = await startServe(dir, 1);
    const body = JSON.stringify({ dataframe_split: batch });
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      const r = await fetch(`${server.url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await r.json();
      if (r.status !== 200) throw new Error(`batch: ${r.status}`);
      if (i > 0) times.push(performance.now() - started);
    }
    await server.stop();
    const http = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
    const table = fromSplit(batch);
    const model_times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      model.predictor.output(table);
      if (i > 0) model_times.push(performance.now() - started);
    }
    const inProcess = model_times.sort((a, b) => a - b)[Math.floor(model_times.length / 2)]!;
    const transform_times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      applyTransform(model.predictor.transform, table);
      if (i > 0) transform_times.push(performance.now() - started);
    }
    const transformMs = transform_times.sort((a, b) => a - b)[Math.floor(transform_times.length / 2)]!;

    const features = join(dir, 'batch-features.csv');
    writeFileSync(features, formatCsv(model.predictor.transform.features, applyTransform(model.predictor.transform, table)));
    const sk = JSON.parse(execFileSync(PYTHON, ['-c', SKLEARN, join(dir, PATHS.train), features], { encoding: 'utf8' })) as { median: number };
    const rate = (ms: number) => Math.round(BATCH_ROWS / (ms / 1000));
    console.log(`batch ${BATCH_ROWS} rows: /invocations ${http.toFixed(0)} ms (${rate(http)} rows/s, JSON in and out, log on); transform + forest in-process ${inProcess.toFixed(0)} ms (${rate(inProcess)} rows/s; of which the raw-to-features transform ${transformMs.toFixed(0)} ms, the forest ${(inProcess - transformMs).toFixed(0)} ms)`);
    console.log(`batch ${BATCH_ROWS} rows: scikit-learn predict_proba ${(sk.median * 1000).toFixed(0)} ms (${rate(sk.median * 1000)} rows/s, features already encoded, n_jobs=None)  target: ours at least as fast`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
