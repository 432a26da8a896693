import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore } from '../src/tracking/file-store.js';

// `runs list --filter ... --json` over 10,000 runs through the real CLI in a cold process (MLflow's
// folder store takes minutes at this size, mlflow#1902). The runs are written by FileStore itself.

const RUNS = 10_000;
const FILTER = "metrics.f1_macro > 0.9 and params.max_depth = '10'";
const BIN = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'bin', 'mlops');

async function populate(root: string): Promise<void> {
  const store = new FileStore(join(root, 'mlruns'));
  const experimentId = await store.getOrCreateExperiment('Default');
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < RUNS; i = next++) {
      const { run_id } = await store.createRun({ experimentId, runName: `run-${i}`, userId: 'bench', tags: { 'mlops.stage': 'train', 'mlflow.source.type': 'LOCAL' } });
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

function timeList(root: string): { ms: number; count: number } {
  const start = performance.now();
  const r = spawnSync(process.execPath, [BIN, 'runs', 'list', '--filter', FILTER, '--json'], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true' }, maxBuffer: 1 << 28 });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`runs list failed: ${r.stderr}`);
  return { ms, count: (JSON.parse(r.stdout) as unknown[]).length };
}

export async function run(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'mlops-bench-tracking-'));
  try {
    const t0 = performance.now();
    await populate(root);
    console.log(`created ${RUNS} runs (3 params, 3 metrics, 6 tags each) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const times: number[] = [];
    let count = 0;
    for (let i = 0; i < 5; i++) {
      const r = timeList(root);
      times.push(r.ms);
      count = r.count;
    }
    times.sort((a, b) => a - b);
    console.log(`mlops runs list --filter "${FILTER}" --json: ${count} runs matched`);
    console.log(`  cold process, warm page cache: median ${times[2]!.toFixed(0)} ms (min ${times[0]!.toFixed(0)}, max ${times[4]!.toFixed(0)}) over 5; target < 1000 ms`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
