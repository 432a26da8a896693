import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset } from '../src/ml/dataset.js';
import { expandGrid, type Grid } from '../src/ml/grid.js';
import { gridSearch, type SearchResult } from '../src/ml/search.js';
import { Project } from '../src/project/project.js';
import { deletePrefix } from '../src/queue/bullmq.js';
import { queueFoldExecutor } from '../src/queue/folds.js';
import { loadAverage, MLOPS_BIN, OBESITY_CSV, timeCommand } from './util.js';

// A 48-candidate x 5-fold grid on the real UCI obesity data (as `mlops prepare` splits and encodes it):
// (a) the local search on 2 worker threads, as `mlops train` runs it on this 2-core machine, and
// (b) the same search through the queue (BullMQ on the Redis at 127.0.0.1:6379, a key prefix of its
// own, deleted after) with 2 `mlops queue worker` processes, each right after a local one, in
// MLOPS_BENCH_QUEUE_ROUNDS (3) pairs, then once with 4. Reports wall times, the
// queue's overhead per job, and whether every candidate's scores are identical to the local ones.
// On a shared machine the wall times follow the load, so CPU time (user+sys of this process, of the
// worker processes and of the Redis server) is reported beside them: the queue's extra CPU per job is
// its overhead whatever the load; the workers' CPU is split into their event loops (the queue's
// machinery) and the rest (the fits). MLOPS_BENCH_QUEUE_CANDIDATES=N runs the first N candidates only
// (a quick look while iterating; the figure is the full grid's); MLOPS_BENCH_PREFIX starts the key
// prefix (default mlops-bench; a random part follows).

const GRID: Grid = { n_estimators: [20, 50, 100], max_depth: [5, 10, 20, null], max_features: ['sqrt', 'log2'], min_samples_leaf: [1, 2] };
const FOLDS = 5;
const SEED = 42;
const REDIS = process.env.MLOPS_BENCH_REDIS_URL || 'redis://127.0.0.1:6379/0';
// Paired rounds (local, then queued with 2 workers) the 2-worker target is judged on.
const ROUNDS = Number(process.env.MLOPS_BENCH_QUEUE_ROUNDS || 3);

const PARAMS = (input: string) => `prepare:
  input: ${input}
  target: NObeyesdad
  test_size: 0.2
  seed: 42
  encoding: ordinal
train:
  executor: queue
  grid: {n_estimators: [10]}
`;

/** CPU seconds (user+sys) used so far, from /proc (clock ticks of 1/100 s on Linux): `stat` of a process or of one of its threads. */
function statCpu(stat: string): number {
  const fields = readFileSync(stat, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * A worker process's CPU seconds: its main thread (Node's, whose id is the process's) runs the queue
 * machinery (BullMQ, ioredis, the messages to and from the fitting threads); the fits and V8's helpers
 * run on the others.
 */
function workerCpu(pid: number): { loop: number; total: number } {
  return { loop: statCpu(`/proc/${pid}/task/${pid}/stat`), total: statCpu(`/proc/${pid}/stat`) };
}

/**
 * System calls that read and write (sockets, the threads' wake-ups) a process's main thread has made:
 * each round trip to Redis and each message between threads is a few, whatever the load, so their
 * count per job shows the machinery's work where CPU times drift with the load.
 */
function mainThreadCalls(pid: number): number {
  const io = readFileSync(`/proc/${pid}/task/${pid}/io`, 'utf8');
  return Number(/^syscr: (\d+)/m.exec(io)![1]) + Number(/^syscw: (\d+)/m.exec(io)![1]);
}

const ownCpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/**
 * CPU seconds the Redis server has used (shared with whatever else uses it meanwhile). Asked over a bare
 * socket, not through ioredis: loading the client here would make it loaded already when the executor
 * loads it, and count the bench's load in train's CPU.
 */
function redisCpu(): Promise<number> {
  const { hostname, port } = new URL(REDIS);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port || 6379), hostname, () => socket.write('INFO cpu\r\n'));
    let reply = '';
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      const size = /^\$(\d+)\r\n/.exec(reply);
      if (!size || Buffer.byteLength(reply) < size[0].length + Number(size[1])) return;
      socket.end();
      const get = (key: string) => Number(new RegExp(`^${key}:([\\d.]+)`, 'm').exec(reply)?.[1] ?? 0);
      resolve(get('used_cpu_user') + get('used_cpu_sys'));
    });
    socket.on('error', reject);
  });
}

function startWorkers(dir: string, n: number): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: n }, () => {
      const child = spawn(process.execPath, [MLOPS_BIN, 'queue', 'worker'], { cwd: dir, env: { ...process.env, CI: 'true', MLOPS_ROOT: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
      return new Promise<ChildProcess>((resolve, reject) => {
        child.stderr!.on('data', (d: Buffer) => d.toString().includes('taking jobs') && resolve(child));
        child.on('exit', (code) => reject(new Error(`queue worker exited ${code}`)));
      });
    }),
  );
}

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(workers.map((w) => new Promise((resolve) => (w.once('exit', resolve), w.kill('SIGTERM')))));
}

const scores = (s: SearchResult) => JSON.stringify(s.candidates.map((c) => [c.fold_scores, c.mean_score, c.std_score, c.rank]));

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-queue-'));
  const prefix = `${process.env.MLOPS_BENCH_PREFIX || 'mlops-bench'}-${randomBytes(4).toString('hex')}`;
  let project: Project | undefined;
  try {
    mkdirSync(join(dir, '.mlops'));
    writeFileSync(join(dir, '.mlops', 'config'), `[queue]\n    url = ${REDIS}\n    prefix = ${prefix}\n`);
    writeFileSync(join(dir, 'params.yaml'), PARAMS(process.env.OBESITY_CSV_PATH || OBESITY_CSV));
    timeCommand(process.execPath, [MLOPS_BIN, 'prepare'], dir);
    const file = join(dir, 'data', 'prepared', 'train.csv');
    const { data } = readDataset(file, 'NObeyesdad', 'classification');
    const wanted = Number(process.env.MLOPS_BENCH_QUEUE_CANDIDATES || 0);
    const candidates = wanted > 0 ? expandGrid(GRID).slice(0, wanted) : expandGrid(GRID);
    const jobs = candidates.length * FOLDS;
    console.log(`data: ${data.nRows} training rows x ${data.nFeatures} features; ${candidates.length} candidates x ${FOLDS} folds = ${jobs} fits; load average ${loadAverage()}`);
    const options = { folds: FOLDS, scoring: 'f1_macro', seed: SEED, engine: 'forest' } as const;

    const localRun = async () => {
      const started = performance.now();
      const cpu = ownCpu();
      const result = await gridSearch(data, candidates, { ...options, workers: 2 });
      const wall = (performance.now() - started) / 1000;
      const localCpu = ownCpu() - cpu;
      const best = result.candidates[result.bestIndex]!;
      console.log(`local, 2 worker threads:      ${wall.toFixed(1)} s wall, ${localCpu.toFixed(1)} s CPU; best f1_macro ${best.mean_score.toFixed(6)} ${JSON.stringify(best.params)}; load average ${loadAverage()}`);
      return { result, wall, cpu: localCpu };
    };

    project = Project.open(dir, { cwd: dir });
    const queuedRun = async (n: number, workers: ChildProcess[], local: { result: SearchResult; wall: number; cpu: number }) => {
      const workersCpu = () => workers.map((w) => workerCpu(w.pid!)).reduce((a, b) => ({ loop: a.loop + b.loop, total: a.total + b.total }));
      const calls = () => [mainThreadCalls(process.pid), workers.reduce((sum, w) => sum + mainThreadCalls(w.pid!), 0)] as const;
      const callsBefore = calls();
      const cpuBefore = [ownCpu(), workersCpu(), await redisCpu()] as const;
      const started = performance.now();
      // Timed from the executor's set-up (loading BullMQ, checking the broker, the data set into the
      // cache), as `mlops train` pays it: the local search's thread start is timed too.
      const executor = await queueFoldExecutor(project!, { file, target: 'NObeyesdad', task: 'classification', folds: FOLDS, seed: SEED }, () => {});
      if (typeof executor === 'string') throw new Error(executor);
      const setUp = (performance.now() - started) / 1000;
      const queued = await gridSearch(data, candidates, { ...options, workers: n, executor });
      const wall = (performance.now() - started) / 1000;
      const after = workersCpu();
      const callsAfter = calls();
      const [parent, inWorkers, redis] = [ownCpu() - cpuBefore[0], after.total - cpuBefore[1].total, (await redisCpu()) - cpuBefore[2]];
      const loops = after.loop - cpuBefore[1].loop;
      const totalCpu = parent + inWorkers + redis;
      const perJob = (seconds: number) => `${((seconds * 1000) / jobs).toFixed(2)} ms`;
      const same = scores(queued) === scores(local.result);
      const overhead = wall - local.wall;
      const cpuOverhead = totalCpu - local.cpu;
      console.log(
        `queue, ${n} worker processes:    ${wall.toFixed(1)} s wall (${((overhead / local.wall) * 100).toFixed(1)}% vs local; ` +
          `${((overhead * Math.min(n, 2) * 1000) / jobs).toFixed(1)} ms per job on 2 cores; of it the executor's set-up ${setUp.toFixed(2)} s, ` +
          `the search alone ${(((wall - setUp - local.wall) / local.wall) * 100).toFixed(1)}% vs local); ` +
          `${totalCpu.toFixed(1)} s CPU (workers ${inWorkers.toFixed(1)}, train ${parent.toFixed(1)}, redis ${redis.toFixed(2)}; ` +
          `${((cpuOverhead / local.cpu) * 100).toFixed(1)}% vs local, ${((cpuOverhead * 1000) / jobs).toFixed(1)} ms CPU per job); ` +
          `CPU per job: workers' event loops ${perJob(loops)}, train ${perJob(parent)}, redis ${perJob(redis)}, fits and the rest ${perJob(inWorkers - loops)} (local ${perJob(local.cpu)}); ` +
          `read/write system calls per job: workers' event loops ${((callsAfter[1] - callsBefore[1]) / jobs).toFixed(1)}, train ${((callsAfter[0] - callsBefore[0]) / jobs).toFixed(1)}; ` +
          `best f1_macro ${queued.candidates[queued.bestIndex]!.mean_score.toFixed(6)}; every score identical to local: ${same ? 'yes' : 'NO'}; load average ${loadAverage()}`,
      );
      return overhead / local.wall;
    };

    // This machine's speed drifts from minute to minute (the same fits took 48 to 82 ms of CPU each in
    // runs minutes apart), so each queued search is paired with a local one just before it, and the
    // target is judged on the median of the pairs. The workers are started once, as a team's are.
    const overheads: number[] = [];
    let workers = await startWorkers(dir, 2);
    try {
      for (let round = 0; round < ROUNDS; round++) overheads.push(await queuedRun(2, workers, await localRun()));
    } finally {
      await stopWorkers(workers);
    }
    workers = await startWorkers(dir, 4);
    try {
      await queuedRun(4, workers, await localRun());
    } finally {
      await stopWorkers(workers);
    }
    const median = overheads.sort((a, b) => a - b)[Math.floor(overheads.length / 2)]!;
    console.log(`2 workers, ${ROUNDS} paired rounds: overhead ${overheads.map((o) => `${(o * 100).toFixed(1)}%`).join(', ')}; median ${(median * 100).toFixed(1)}%`);
    console.log('target: overhead under 5% of the local wall time at 2 workers; load average at end ' + loadAverage());
  } finally {
    await deletePrefix(REDIS, prefix);
    rmSync(dir, { recursive: true, force: true });
  }
}
