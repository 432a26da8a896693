import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatCsv } from '../src/core/csv.js';
import { generateObesity } from '../src/ml/synthetic.js';
import { applyTransform, transformMatrix } from '../src/ml/transform.js';
import { PATHS } from '../src/ml/paths.js';
import { openPredictionReader } from '../src/predictions/open.js';
import { Project } from '../src/project/project.js';
import { loadServedModel } from '../src/serve/model.js';
import { fromSplit } from '../src/serve/input.js';
import { logWrites } from './log-writes.js';
import { MLOPS_BIN, OBESITY_CSV, PROJECT_ROOT, timeCommand } from './util.js';

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
    start, cpu = time.perf_counter(), time.process_time()
    forest.predict_proba(batch)
    times.append((time.perf_counter() - start, time.process_time() - cpu))
print(json.dumps({"wall": sorted(t[0] for t in times)[2] * 1000, "cpu": sorted(t[1] for t in times)[2] * 1000}))
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

interface Server {
  readonly url: string;
  /** CPU seconds (user + system) the server's processes have used so far, workers included. */
  cpu(): number;
  /** The serving processes' event-loop delay and GC pauses since the last call (loop-delay.ts), one line each. */
  loopDelay(): Promise<string[]>;
  stop(): Promise<number | null>;
}

/** Preloaded into every server process: event-loop delay and GC pauses, told on SIGUSR2. */
const LOOP_DELAY = pathToFileURL(join(PROJECT_ROOT, 'dist', 'bench', 'loop-delay.js')).href;

/** A process's CPU seconds from /proc (utime + stime, in clock ticks of 1/100 s). */
function processCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}

/** Starts `args` (a server printing `serving ... at URL` on stderr) and waits until it listens. */
async function startServer(args: string[], dir: string): Promise<Server> {
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: { ...process.env, CI: 'true', MLOPS_ROOT: dir, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${LOOP_DELAY}` },
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
  const pids = [child.pid!, ...childPids(child.pid!)];
  // With workers, they serve; the primary's loop only waits.
  const serving = pids.length > 1 ? pids.slice(1) : pids;
  return {
    url,
    cpu: () => pids.reduce((sum, pid) => sum + processCpu(pid), 0),
    loopDelay: async () => {
      const told = stderr.length;
      for (const pid of serving) process.kill(pid, 'SIGUSR2');
      const deadline = Date.now() + 2000;
      const lines = () => stderr.slice(told).split('\n').filter((l) => l.startsWith('loop-delay'));
      while (lines().length < serving.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return lines();
    },
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

const startServe = (dir: string, workers: number, bin = MLOPS_BIN) => startServer([bin, 'serve', '--port', '0', '--workers', String(workers), 'models:/clf@champion'], dir);

/**
 * SERVE_BENCH_BEFORE=DIR: another built checkout (the code before a change) loaded the same way in
 * the same run, after this one at each worker count, so a change is compared on the same machine
 * state rather than against figures from another day.
 */
const BUILDS = [{ label: '', bin: MLOPS_BIN }, ...(process.env.SERVE_BENCH_BEFORE ? [{ label: ' (before)', bin: join(process.env.SERVE_BENCH_BEFORE, 'bin', 'mlops') }] : [])];

/** Median wall and CPU (user + system) milliseconds of `fn`, over 5 runs after a first one. */
interface Timing {
  readonly wall: number;
  readonly cpu: number;
}
function timed(fn: () => unknown): Timing {
  const runs: Timing[] = [];
  for (let i = 0; i < 6; i++) {
    const [wall, cpu] = [performance.now(), process.cpuUsage()];
    fn();
    const used = process.cpuUsage(cpu);
    if (i > 0) runs.push({ wall: performance.now() - wall, cpu: (used.user + used.system) / 1000 });
  }
  const median = (k: keyof Timing) => runs.map((r) => r[k]).sort((a, b) => a - b)[2]!;
  return { wall: median('wall'), cpu: median('cpu') };
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
    const TARGET = 'target >= 5000 req/s, p99 < 10 ms';
    /**
     * A short warm-up (JIT, first model page-in), then the measured run, with the CPU time (user +
     * system) the server's processes and this process (the load generator) spent per request: on a
     * loaded machine, what a request costs is steadier evidence than how many fit in a second.
     */
    const load = async (label: string, server: Server, route: string, body: unknown) => {
      const options = { url: server.url + route, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), connections: CONNECTIONS };
      await autocannon({ ...options, duration: 2 });
      await server.loopDelay(); // starts the count over
      const [cpu0, self0] = [server.cpu(), process.cpuUsage()];
      const r = await autocannon({ ...options, duration: DURATION_S });
      const self = process.cpuUsage(self0);
      const delays = await server.loopDelay();
      const requests = r['2xx'] + r.non2xx;
      const perRequest = (seconds: number) => `${Math.round((seconds * 1e6) / Math.max(1, requests))} us`;
      // Figures of refused requests would measure the error path: a bench on bad input stops.
      if (r.non2xx > 0) throw new Error(`${route}: ${r.non2xx} of the requests were refused`);
      console.log(
        `${label} ${route.padEnd(12)} ${Math.round(r.requests.average)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  (${CONNECTIONS} connections, ${DURATION_S} s; non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}); ` +
          `CPU per request: server ${perRequest(server.cpu() - cpu0)}, load generator ${perRequest((self.user + self.system) / 1e6)}; load ${loadavg()[0]!.toFixed(2)}`,
      );
      for (const line of delays) console.log(`  event loop, ${line.replace(/^loop-delay /, '')}`);
    };

    // The floor: bare fastify answering a constant to the same body, same settings, same cores.
    const floor = await startServer([join(PROJECT_ROOT, 'dist', 'bench', 'floor-server.js')], dir);
    await load('floor (bare fastify, constant answer)', floor, '/invocations', bodies['/invocations']);
    await floor.stop();

    for (const workers of [1, 2]) {
      for (const build of BUILDS) {
        const name = `${workers} worker${workers > 1 ? 's' : ''}${build.label}`;
        const server = await startServe(dir, workers, build.bin);
        const before = await loggedRows(dir);
        let answered = 0;
        for (const [route, body] of Object.entries(bodies)) await load(name, server, route, body);
        // Every 2xx (warm-ups included) must be in the log once the server has stopped.
        const stats = await fetch(`${server.url}/metrics`).then((r) => r.text());
        for (const m of stats.matchAll(/^mlops_predicted_rows_total (\d+)$/gm)) answered = Number(m[1]);
        const code = await server.stop();
        const logged = (await loggedRows(dir)) - before;
        console.log(`${name} log: ${logged} rows written for ${answered} rows predicted (${logged === answered ? 'none lost' : `${answered - logged} LOST`}), exit ${code}`);
      }
      console.log(`  ${TARGET}`);
    }

    const classes = model.predictor.classes;
    await logWrites(dir, { model: { name: 'clf', version: 1 }, input: record, prediction: classes[0]!, probabilities: Object.fromEntries(classes.map((c) => [c, 1 / classes.length])), latency_ms: 0.5 });

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
    const inProcess = timed(() => model.predictor.output(table));
    const transform = timed(() => transformMatrix(model.predictor.transform, table));
    const forest = { wall: inProcess.wall - transform.wall, cpu: inProcess.cpu - transform.cpu };

    const features = join(dir, 'batch-features.csv');
    writeFileSync(features, formatCsv(model.predictor.transform.features, applyTransform(model.predictor.transform, table)));
    const sk = JSON.parse(execFileSync(PYTHON, ['-c', SKLEARN, join(dir, PATHS.train), features], { encoding: 'utf8' })) as Timing;
    const rate = (ms: number) => Math.round(BATCH_ROWS / (ms / 1000));
    const ms = (t: Timing) => `${t.wall.toFixed(0)} ms (CPU ${t.cpu.toFixed(0)} ms)`;
    console.log(`batch ${BATCH_ROWS} rows: /invocations ${http.toFixed(0)} ms (${rate(http)} rows/s, JSON in and out, log on); transform + forest in-process ${ms(inProcess)} (${rate(inProcess.wall)} rows/s; of which the raw-to-features transform ${ms(transform)}, the forest ${ms(forest)})`);
    console.log(
      `batch ${BATCH_ROWS} rows: scikit-learn predict_proba ${ms(sk)} (${rate(sk.wall)} rows/s, features already encoded, n_jobs=None: one thread); ` +
        `forest / predict_proba ${(forest.wall / sk.wall).toFixed(2)}x, by CPU time ${(forest.cpu / sk.cpu).toFixed(2)}x  target: <= 1.00x; load ${loadavg()[0]!.toFixed(2)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
