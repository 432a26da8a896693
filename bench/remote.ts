import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAverage, MLOPS_BIN, PROJECT_ROOT } from './util.js';

// Sizes: BENCH_REMOTE_FILES (default 10,000 small files) and BENCH_REMOTE_BIG_MB (default 1024, one
// file), smaller on a short disk. BENCH_REMOTE_ONLY=big (or small) runs only that file's rows, so the
// one being worked on is measured without the other's load around it.
const FILES = Number(process.env.BENCH_REMOTE_FILES ?? 10_000);
const BIG_MB = Number(process.env.BENCH_REMOTE_BIG_MB ?? 1024);
const ONLY = process.env.BENCH_REMOTE_ONLY;
if (ONLY !== undefined && ONLY !== 'big' && ONLY !== 'small') throw new Error(`BENCH_REMOTE_ONLY is 'big' or 'small', not '${ONLY}'`);
// BENCH_REMOTE_ROUNDS: paired rounds of the big file's pulls (default 5: single runs on this machine swing by 20%).
const ROUNDS = Number(process.env.BENCH_REMOTE_ROUNDS ?? 5);
const SMALL = ONLY !== 'big';
const BIG = ONLY !== 'small';
// Debian's awscli (v2), the anchor the issue names, whatever else is first on PATH.
const AWS = '/usr/bin/aws';
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_DEFAULT_REGION: 'us-east-1' };

interface Measured {
  readonly ms: number;
  readonly mb: number;
  readonly cpu: number;
  /** CPU seconds the S3 server spent meanwhile: on a loaded machine, where wall time goes is shared with it. */
  readonly serverCpu: number;
  /** A median's every round (ms), when it is one. */
  readonly rounds?: number[];
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

let serverPid: number | undefined;

/** Wall time, CPU time and peak memory of one command (via /usr/bin/time), and the server's CPU time; throws when it fails. */
function measure(file: string, args: string[], cwd: string, env: Record<string, string> = {}): Measured {
  // Each row starts with the data the rows before it wrote on disk, not in flight: their write-back
  // would otherwise slow whichever tool comes second.
  spawnSync('sync');
  const server = cpuSeconds(serverPid);
  const start = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', file, ...args], { cwd, env: { ...process.env, CI: 'true', ...env }, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const [kb, user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { ms, mb: kb! / 1024, cpu: user! + sys!, serverCpu: cpuSeconds(serverPid) - server };
}

/**
 * Each of two commands' median run of `ROUNDS`, run in pairs in alternating order: what one 1 GiB
 * transfer leaves the disk doing (write-back, freed blocks to discard) slowed whichever command came
 * next, here by up to 40%, so a single run in a fixed order measured the order.
 */
function paired(first: () => Measured, second: () => Measured): [Measured, Measured] {
  const a: Measured[] = [];
  const b: Measured[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      a.push(first());
      b.push(second());
    } else {
      b.push(second());
      a.push(first());
    }
  }
  // The median's row also says every round's wall time, in the order run.
  const median = (runs: Measured[]): Measured => ({ ...[...runs].sort((x, y) => x.ms - y.ms)[runs.length >> 1]!, rounds: runs.map((r) => r.ms) });
  return [median(a), median(b)];
}

async function startServer(dir: string, bucket: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', join(PROJECT_ROOT, 'dist', 'test', 's3-server.js'), dir, bucket], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited (${code})`)));
  });
  return { child, endpoint: `http://127.0.0.1:${port}` };
}

/**
 * push and pull of many small files and of one big file to an S3 server on 127.0.0.1 (s3rver), beside
 * `aws s3 sync` of the same data to the same server in the same run (the anchor), then a no-op push
 * and `status -c` (also with `--all-files`), and the pulls again into a workspace without the outputs (another machine). Targets (issue 14): small files at least as fast as aws s3 sync, the big file within
 * 1.2x, a no-op status -c under 2 s, memory bounded (no file held whole).
 */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-remote-'));
  let server: ChildProcess | undefined;
  try {
    const project = join(dir, 'project');
    const stages: string[] = [];
    if (SMALL) {
      mkdirSync(join(project, 'small'), { recursive: true });
      for (let i = 0; i < FILES; i++) writeFileSync(join(project, 'small', `f${i}.txt`), `small file ${i} ${'x'.repeat(i % 200)}\n`);
      stages.push('  small:\n    cmd: cp -r small small-out\n    deps: [small]\n    outs: [small-out]\n');
    }
    if (BIG) {
      mkdirSync(join(project, 'big'), { recursive: true });
      spawnSync('bash', ['-c', `head -c ${BIG_MB}M /dev/urandom > big/big.bin`], { cwd: project });
      stages.push('  big:\n    cmd: cp big/big.bin big.bin\n    deps: [big]\n    outs: [big.bin]\n');
    }
    writeFileSync(join(project, 'pipeline.yaml'), `stages:\n${stages.join('')}`);
    mkdirSync(join(project, '.mlops'));
    const mlops = (...args: string[]) => measure(process.execPath, [MLOPS_BIN, ...args], project);
    mlops('repro');
    const s3 = await startServer(join(dir, 's3'), 'bench');
    server = s3.child;
    serverPid = s3.child.pid;
    mlops('remote', 'add', '-d', 'store', 's3://bench/mlops');
    mlops('remote', 'modify', 'store', 'endpointurl', s3.endpoint);
    mlops('remote', 'modify', 'store', 'access_key_id', 'S3RVER');
    mlops('remote', 'modify', 'store', 'secret_access_key', 'S3RVER');
    const aws = (...args: string[]) => measure(AWS, ['--endpoint-url', s3.endpoint, '--only-show-errors', ...args], dir, CREDENTIALS);
    const clearCache = () => rmSync(join(project, '.mlops', 'cache'), { recursive: true, force: true });
    // Wall time against the anchor's (the target), and CPU time (what a loaded machine cannot blur).
    const versus = (m: Measured, anchor: Measured, target: string) => `${(m.ms / anchor.ms).toFixed(2)}x aws (${target}), cpu ${(m.cpu / anchor.cpu).toFixed(2)}x`;

    const rows: [string, Measured, string?][] = [];
    if (SMALL) {
      const awsSmallUp = aws('s3', 'sync', join(project, 'small'), 's3://bench/aws/small');
      const pushSmall = mlops('push', 'small');
      rows.push([`aws s3 sync up, ${FILES} small files`, awsSmallUp], [`mlops push, ${FILES} small files`, pushSmall, versus(pushSmall, awsSmallUp, 'target <= 1x')]);
    }
    if (BIG) {
      const awsBigUp = aws('s3', 'cp', join(project, 'big', 'big.bin'), 's3://bench/aws/big.bin');
      const pushBig = mlops('push', 'big');
      rows.push([`aws s3 cp up, one ${BIG_MB} MiB file`, awsBigUp], [`mlops push, one ${BIG_MB} MiB file`, pushBig, versus(pushBig, awsBigUp, 'target <= 1.2x')]);
    }

    const noopPush = mlops('push');
    rows.push(['mlops no-op push (everything known)', noopPush]);
    const status = mlops('status', '-c');
    const objects = (SMALL ? FILES + 1 : 0) + (BIG ? 1 : 0);
    rows.push([`mlops no-op status -c (${objects} objects)`, status, `target < 2000 ms (a manifest answers for its files, as DVC)`]);
    const everyFile = mlops('status', '-c', '--all-files');
    rows.push([`mlops no-op status -c --all-files`, everyFile, `every file asked about: lists the remote`]);

    const down = join(dir, 'down');
    clearCache();
    let awsSmallDown: Measured | undefined;
    if (SMALL) {
      awsSmallDown = aws('s3', 'sync', 's3://bench/aws/small', join(down, 'small'));
      const pullSmall = mlops('pull', 'small');
      rows.push([`aws s3 sync down, ${FILES} small files`, awsSmallDown], [`mlops pull, ${FILES} small files`, pullSmall, versus(pullSmall, awsSmallDown, 'target <= 1x')]);
    }
    // The big file comes down in paired rounds (see paired()), aws always into an empty folder.
    const awsBig = () => {
      rmSync(join(down, 'big.bin'), { force: true });
      return aws('s3', 'cp', 's3://bench/aws/big.bin', join(down, 'big.bin'));
    };
    if (BIG) {
      const [awsBigDown, pullBig] = paired(awsBig, () => {
        clearCache();
        return mlops('pull', 'big');
      });
      rows.push([`aws s3 cp down, one ${BIG_MB} MiB file (median)`, awsBigDown], [`mlops pull, one ${BIG_MB} MiB file (median)`, pullBig, versus(pullBig, awsBigDown, 'target <= 1.2x')]);
    }
    // As on another machine: neither the cache nor the workspace holds the outputs (as aws writes into an
    // empty folder). Above, the workspace still held them, so the pull had to check them first.
    clearCache();
    for (const out of ['small-out', 'big.bin']) rmSync(join(project, out), { recursive: true, force: true });
    if (awsSmallDown) {
      const freshSmall = mlops('pull', 'small');
      rows.push([`mlops pull, ${FILES} small files, no outputs here`, freshSmall, versus(freshSmall, awsSmallDown, 'target <= 1x')]);
    }
    if (BIG) {
      const [awsBigDown, freshBig] = paired(awsBig, () => {
        clearCache();
        rmSync(join(project, 'big.bin'), { force: true });
        return mlops('pull', 'big');
      });
      rows.push([`aws s3 cp down again (median)`, awsBigDown], [`mlops pull, one ${BIG_MB} MiB file, no output here`, freshBig, versus(freshBig, awsBigDown, 'target <= 1.2x')]);
    }

    console.log(`load average: ${loadAverage()} (s3rver, one Node process, serves both tools; its CPU time per row beside the tool's)`);
    for (const [name, m, note] of rows) {
      const rounds = m.rounds ? `  rounds ${m.rounds.map((ms) => (ms / 1000).toFixed(2)).join(' ')} s` : '';
      console.log(`${name.padEnd(44)} ${m.ms.toFixed(0).padStart(7)} ms ${m.cpu.toFixed(1).padStart(6)} s cpu ${m.serverCpu.toFixed(1).padStart(6)} s server cpu ${m.mb.toFixed(0).padStart(4)} MB peak${note ? `  ${note}` : ''}${rounds}`);
    }
  } finally {
    server?.stdin?.end();
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
