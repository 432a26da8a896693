import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ks2 } from '../src/drift/ks-test.js';

// Two-sample KS against scipy.stats.ks_2samp on the same values in the same run: an exact case
// (10,000 x 10,000) and asymptotic cases (1,000,000 x 1,000,000). Both sides are timed in-process
// (best of several runs, sorting included); statistics must be identical, p-values within 1e-12.

const PYTHON = '/usr/bin/python3'; // Debian's python3-scipy installs for the system interpreter
const CASES: { name: string; n: number; m?: number; shift: number; runs: number }[] = [
  { name: 'exact 10,000 x 10,000, shift 0.03', n: 10000, shift: 0.03, runs: 7 },
  { name: 'exact 10,000 x 9,999 (lattice walk), shift 0.03', n: 10000, m: 9999, shift: 0.03, runs: 3 },
  { name: 'asymptotic 1,000,000 x 1,000,000, shift 0.01', n: 1000000, shift: 0.01, runs: 3 },
  { name: 'asymptotic 1,000,000 x 1,000,000, no shift', n: 1000000, shift: 0, runs: 3 },
];

const SCIPY = `
import sys, time, json, numpy as np
from scipy import stats
x = np.fromfile(sys.argv[1]); y = np.fromfile(sys.argv[2]); runs = int(sys.argv[3])
best = float('inf')
for _ in range(runs):
    t = time.perf_counter(); r = stats.ks_2samp(x, y); best = min(best, time.perf_counter() - t)
print(json.dumps({"d": float(r.statistic), "p": float(r.pvalue), "seconds": best}))
`;

/** Standard normal draws from a seeded generator (mulberry32 + Box-Muller). */
function normals(n: number, seed: number, shift: number): Float64Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()) + shift;
  return out;
}

function scipyAvailable(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import scipy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function run(): Promise<void> {
  const haveScipy = scipyAvailable();
  if (!haveScipy) console.log(`scipy not found for ${PYTHON}: apt-get update && apt-get install -y python3-scipy (our figures only)`);
  const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-drift-'));
  try {
    for (const c of CASES) {
      const x = normals(c.n, 1, 0);
      const y = normals(c.m ?? c.n, 2, c.shift);
      let best = Infinity;
      let ours = ks2(x, y);
      for (let i = 0; i < c.runs; i++) {
        const t = performance.now();
        ours = ks2(x, y);
        best = Math.min(best, performance.now() - t);
      }
      const line = `${c.name}: D=${ours.statistic} p=${ours.pValue} (${ours.method}); mlops ${best.toFixed(1)} ms`;
      if (!haveScipy) {
        console.log(line);
        continue;
      }
      writeFileSync(join(dir, 'x.bin'), Buffer.from(x.buffer));
      writeFileSync(join(dir, 'y.bin'), Buffer.from(y.buffer));
      const out = execFileSync(PYTHON, ['-c', SCIPY, join(dir, 'x.bin'), join(dir, 'y.bin'), String(c.runs)], { encoding: 'utf8' });
      const scipy = JSON.parse(out) as { d: number; p: number; seconds: number };
      const same = scipy.d === ours.statistic && (Math.abs(scipy.p - ours.pValue) <= 1e-15 || Math.abs(scipy.p - ours.pValue) <= 1e-12 * scipy.p);
      const ms = scipy.seconds * 1000;
      console.log(`${line}, scipy ${ms.toFixed(1)} ms (x${(ms / best).toFixed(2)}); scipy p=${scipy.p}; ${same ? 'identical values' : 'VALUES DIFFER'}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
