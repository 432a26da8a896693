import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A child process timed, with the peak resident memory of its whole process tree (worker threads,
// loky or multiprocessing children included) sampled from /proc every 50 ms, and its CPU time (user +
// system, waited-for children included) from GNU time: the figure to trust when other jobs load the
// machine.

export interface Measured {
  readonly stdout: string;
  readonly seconds: number;
  readonly peakMB: number;
  readonly cpuSeconds: number;
}

function descendants(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${all[i]}/task`);
    } catch {
      continue; // gone already
    }
    for (const task of tasks) {
      try {
        for (const child of readFileSync(`/proc/${all[i]}/task/${task}/children`, 'utf8').split(' ')) if (child.trim()) all.push(Number(child));
      } catch {
        // the task ended between the listing and the read
      }
    }
  }
  return all;
}

function treeRssKB(pid: number): number {
  let kb = 0;
  for (const p of descendants(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // ended
    }
  }
  return kb;
}

export function measure(file: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const timing = mkdtempSync(join(tmpdir(), 'mlops-bench-time-'));
    const times = join(timing, 'times');
    const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', times, file, ...args], { cwd: options.cwd, env: { ...process.env, CI: 'true', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const poll = setInterval(() => (peak = Math.max(peak, treeRssKB(child.pid!))), 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = (performance.now() - started) / 1000;
      let cpuSeconds = NaN;
      try {
        const [user, sys] = readFileSync(times, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        cpuSeconds = user! + sys!;
      } catch {
        // no times written: the error below says why
      }
      rmSync(timing, { recursive: true, force: true });
      if (code !== 0) reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      else resolve({ stdout, seconds, peakMB: peak / 1024, cpuSeconds });
    });
  });
}
