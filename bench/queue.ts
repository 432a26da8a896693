import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
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
// (a) the local search on 2 worker threads, as `mlops train` runs it on this 2-core machine, then
// (b) the same search through the queue (BullMQ on the Redis at 127.0.0.1:6379, a key prefix of its
// own, deleted after) with 2 and then 4 `mlops queue worker` processes. Reports wall times, the
// queue's overhead per job, and whether every candidate's scores are identical to the local ones.

const GRID: Grid = { n_estimators: [20, 50, 100], max_depth: [5, 10, 20, null], max_features: ['sqrt', 'log2'], min_samples_leaf: [1, 2] };
const FOLDS = 5;
const SEED = 42;
const REDIS = process.env.MLOPS_BENCH_REDIS_URL || 'redis://127.0.0.1:6379/0';

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
  const prefix = `mlops-bench-${randomBytes(4).toString('hex')}`;
  let project: Project | undefined;
  try {
    mkdirSync(join(dir, '.mlops'));
    writeFileSync(join(dir, '.mlops', 'config'), `[queue]\n    url = ${REDIS}\n    prefix = ${prefix}\n`);
    writeFileSync(join(dir, 'params.yaml'), PARAMS(process.env.OBESITY_CSV_PATH || OBESITY_CSV));
    timeCommand(process.execPath, [MLOPS_BIN, 'prepare'], dir);
    const file = join(dir, 'data', 'prepared', 'train.csv');
    const { data } = readDataset(file, 'NObeyesdad', 'classification');
    const candidates = expandGrid(GRID);
    const jobs = candidates.length * FOLDS;
    console.log(`data: ${data.nRows} training rows x ${data.nFeatures} features; ${candidates.length} candidates x ${FOLDS} folds = ${jobs} fits; load average ${loadAverage()}`);
    const options = { folds: FOLDS, scoring: 'f1_macro', seed: SEED, engine: 'forest' } as const;

    let started = performance.now();
    const local = await gridSearch(data, candidates, { ...options, workers: 2 });
    const localWall = (performance.now() - started) / 1000;
    const best = local.candidates[local.bestIndex]!;
    console.log(`local, 2 worker threads:      ${localWall.toFixed(1)} s wall; best f1_macro ${best.mean_score.toFixed(6)} ${JSON.stringify(best.params)}`);

    project = Project.open(dir, { cwd: dir });
    const executor = await queueFoldExecutor(project, { file, target: 'NObeyesdad', task: 'classification', folds: FOLDS, seed: SEED }, () => {});
    if (typeof executor === 'string') throw new Error(executor);
    for (const n of [2, 4]) {
      const workers = await startWorkers(dir, n);
      try {
        started = performance.now();
        const queued = await gridSearch(data, candidates, { ...options, workers: n, executor });
        const wall = (performance.now() - started) / 1000;
        const same = scores(queued) === scores(local);
        const overhead = wall - localWall;
        console.log(
          `queue, ${n} worker processes:    ${wall.toFixed(1)} s wall (${((overhead / localWall) * 100).toFixed(1)}% vs local; ` +
            `${((overhead * Math.min(n, 2) * 1000) / jobs).toFixed(1)} ms per job on 2 cores); best f1_macro ${queued.candidates[queued.bestIndex]!.mean_score.toFixed(6)}; ` +
            `every score identical to local: ${same ? 'yes' : 'NO'}`,
        );
      } finally {
        await stopWorkers(workers);
      }
    }
    console.log('target: overhead under 5% of the local wall time at 2 workers; load average at end ' + loadAverage());
  } finally {
    await deletePrefix(REDIS, prefix);
    rmSync(dir, { recursive: true, force: true });
  }
}
