import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore } from '../src/tracking/file-store.js';

// `runs list --filter ... --json` over 10,000 runs through the real CLI in a cold process (MLflow's
// folder store takes minutes at this size, mlflow#1902). The runs are written by FileStore itself.

const RUNS = 10_000;
const FILTER = "metrics.f1_macro > 0.9 and params.max_depth = '10'";
const BIN = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'bin', 'mlops');

// With mlflow.runName, the six tags a tracked stage run carries.
const TAGS = { 'mlops.stage': 'train', 'mlflow.source.type': 'LOCAL', 'mlflow.source.name': 'mlops train', 'mlflow.user': 'bench', 'mlflow.source.git.commit': 'f'.repeat(40) };

export async function populate(root: string): Promise<void> {
  const store = new FileStore(join(root, 'mlruns'));
  const experimentId = await store.getOrCreateExperiment('Default');
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < RUNS; i = next++) {
      const { run_id } = await store.createRun({ experimentId, runName: `run-${i}`, userId: 'bench', tags: TAGS });
      await store.logParams(run_id, { max_depth: String([5, 10, 20, 40][i % 4]), n_estimators: String(100 + (i % 7) * 50), criterion: 'gini' });
      const f1 = (i * 7919) % 1000 / 1000;
      await store.logMetrics(run_id, [
        { key: 'f1_macro', value: f1, step: 0, timestamp: Date.now() },
        { key: 'accuracy', value: f1 * 0.98, step: 0, timestamp: Date.now() },
        { key: 'cv/fold_score', value: f1, step: 0, timestamp: Date.now() },
        { key: 'cv/fold_score', value: f1 * 0.99, step: 1, timestamp: Date.now() },
      ]);
      await store.setStatus(run_id, 'FINISHED', Date.now());
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

const ARGS = ['runs', 'list', '--filter', FILTER, '--json'];

function matched(root: string): number {
  const r = spawnSync(process.execPath, [BIN, ...ARGS], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true' }, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`runs list failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as unknown[]).length;
}

/** Wall time, and the CPU time (user + sys) bash reports, which the machine's other load does not inflate. */
function timeList(root: string): { wall: number; cpu: number } {
  const start = performance.now();
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%U %S"; time "$0" "$@" > /dev/null', process.execPath, BIN, ...ARGS], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  const wall = performance.now() - start;
  if (r.status !== 0) throw new Error(`runs list failed: ${r.stderr}`);
  const [user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall, cpu: (user! + sys!) * 1000 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function run(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'mlops-bench-tracking-'));
  try {
    const t0 = performance.now();
    await populate(root);
    console.log(`created ${RUNS} runs (3 params, 3 metrics with 4 values, 6 tags each) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const count = matched(root);
    const runs = Array.from({ length: 5 }, () => timeList(root));
    console.log(`mlops runs list --filter "${FILTER}" --json: ${count} runs matched`);
    console.log(`  cold process, warm page cache, median of 5: ${median(runs.map((r) => r.wall)).toFixed(0)} ms wall, ${median(runs.map((r) => r.cpu)).toFixed(0)} ms CPU (user+sys); target < 1000 ms`);
    console.log(`  load average during the run: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
