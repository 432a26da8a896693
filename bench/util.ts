import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout (benches run from dist/bench/). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MLOPS_BIN = join(PROJECT_ROOT, 'bin', 'mlops');
/** The real UCI obesity data the team shares beside the checkout (the ml suite reads it in place). */
export const OBESITY_CSV = resolve(PROJECT_ROOT, '..', 'shared', 'data', 'obesity.csv');

/** Wall time of one run of a command, in milliseconds; throws if it fails. */
export function timeCommand(file: string, args: string[], cwd: string, env: Record<string, string> = {}): number {
  const start = performance.now();
  const r = spawnSync(file, args, { cwd, env: { ...process.env, CI: 'true', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

/** Median of `runs` timings: robust to one slow run on a shared machine. */
export function median(runs: number, measure: () => number): number {
  const times = Array.from({ length: runs }, measure).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export const loadAverage = () => execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
