import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { measure } from './measure.js';
import { generateCsv } from './ml-scale.js';
import { loadAverage, MLOPS_BIN, PROJECT_ROOT } from './util.js';

// The default pipeline end to end on a generated data set (make_classification, 64 features, 7
// classes; 2,000,000 rows unless SCALE_E2E_ROWS says otherwise) with `train.splitter: hist`: each stage
// run by `mlops repro <stage>` in turn, its time, CPU time and the peak memory of its process tree. The
// data lives in a temp folder that is removed after. SCALE_E2E_GRID (JSON) replaces the default grid.

const STAGES = ['prepare', 'train', 'evaluate', 'register', 'promote', 'drift'];

interface Params {
  prepare: Record<string, unknown>;
  train: Record<string, unknown>;
  evaluate: Record<string, unknown>;
  registry: Record<string, unknown>;
}

export async function run(): Promise<void> {
  const rows = Number(process.env.SCALE_E2E_ROWS ?? 2_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-e2e-'));
  try {
    mkdirSync(join(dir, 'data', 'raw'), { recursive: true });
    const csv = join(dir, 'data', 'raw', 'big.csv');
    generateCsv(csv, rows, 64);
    const params = parse(readFileSync(join(PROJECT_ROOT, 'params.yaml'), 'utf8')) as Params;
    params.prepare.input = 'data/raw/big.csv';
    params.prepare.target = 'label';
    params.train.splitter = 'hist';
    if (process.env.SCALE_E2E_GRID) params.train.grid = JSON.parse(process.env.SCALE_E2E_GRID) as unknown;
    // generated data: the example's absolute thresholds and gates are about the real data set
    delete params.evaluate.thresholds;
    params.registry = { ...params.registry, gates: { accuracy: { min: 0.3 } } };
    writeFileSync(join(dir, 'params.yaml'), stringify(params));
    writeFileSync(join(dir, 'pipeline.yaml'), readFileSync(join(PROJECT_ROOT, 'pipeline.yaml'), 'utf8'));
    writeFileSync(join(dir, '.gitignore'), 'mlruns/\n.mlops/\n');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
    git('init', '-q');
    git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '--allow-empty', '-m', 'empty');
    const mb = statSync(csv).size / 1024 ** 2;
    console.log(`\n### default pipeline, ${rows.toLocaleString('en-US')} x 64 (${Math.round(mb)} MB of CSV), train.splitter: hist, grid ${JSON.stringify(params.train.grid)} x ${String(params.train.cv_folds)} folds (load ${loadAverage()})`);
    console.log('| stage (`mlops repro <stage>`) | wall | CPU (user + sys) | peak memory (process tree) |');
    console.log('|---|---|---|---|');
    let wall = 0;
    let peak = 0;
    for (const stage of STAGES) {
      const m = await measure(MLOPS_BIN, ['repro', stage], { cwd: dir });
      wall += m.seconds;
      peak = Math.max(peak, m.peakMB);
      console.log(`| ${stage} | ${m.seconds.toFixed(1)} s | ${m.cpuSeconds.toFixed(1)} s | ${Math.round(m.peakMB)} MB |`);
    }
    console.log(`| all | ${wall.toFixed(1)} s | | ${Math.round(peak)} MB (target: within 8 GB) |`);
    console.log(`load average after: ${loadAverage()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
