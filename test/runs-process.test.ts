import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentProcess, groupAlive, processAlive } from '../src/core/process.js';
import { Project } from '../src/project/project.js';
import { FileStore } from '../src/tracking/file-store.js';
import { startRun } from '../src/tracking/tracked-run.js';
import { MLOPS_BIN, runMlops, tempDir, writeFiles } from './helpers.js';

// Processes, locks and runs that outlive them: what kill -9, pid reuse and concurrent commands leave.

function startRepro(dir: string, args: string[] = []) {
  const child = spawn(process.execPath, [MLOPS_BIN, 'repro', ...args], { cwd: dir, env: { ...process.env, CI: 'true', MLOPS_ROOT: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  // 'exit', not 'close': a stage left running keeps the output pipes open.
  const closed = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const saw = (text: string) => new Promise<void>((resolve) => {
    const check = () => out.includes(text) && resolve();
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    check();
  });
  return { child, closed, saw, output: () => out };
}

test('repro killed with -9 mid-stage: the next repro waits for the stage it left running, then runs', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  slow:\n    cmd: echo $$ > group.pid; echo up-$((6*7)); sleep 60; echo late > out.txt\n    outs: [out.txt]\n' });
  const first = startRepro(dir);
  await first.saw('up-42');
  const orphan = Number(readFileSync(join(dir, 'group.pid'), 'utf8'));
  t.after(() => {
    try { process.kill(-orphan, 'SIGKILL'); } catch { /* already gone */ }
  });
  // The group is recorded right after the spawn; on a loaded machine the stage may print first.
  while (!readFileSync(join(dir, '.mlops/repro.lock'), 'utf8').includes(`"pgid":${orphan}`)) await sleep(20);
  first.child.kill('SIGKILL');
  await first.closed;
  assert.ok(groupAlive(orphan), 'the stage outlives a repro killed with -9');

  const second = startRepro(dir);
  await second.saw(`process group ${orphan}`);
  assert.ok(!existsSync(join(dir, 'out.txt')), 'nothing ran beside the orphan');
  process.kill(-orphan, 'SIGKILL');
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  slow:\n    cmd: echo fresh > out.txt\n    outs: [out.txt]\n' });
  assert.equal(await second.closed, 0, second.output());
  assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'fresh\n');
});

test('the lock of a repro killed with -9, its pid now reused by another process (pid 1), is taken over at once', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  a:\n    cmd: echo $$ > group.pid; echo up-$((6*7)); sleep 30; echo a > a.txt\n    outs: [a.txt]\n' });
  const killed = startRepro(dir);
  await killed.saw('up-42');
  killed.child.kill('SIGKILL');
  await killed.closed;
  process.kill(-Number(readFileSync(join(dir, 'group.pid'), 'utf8')), 'SIGKILL'); // no stage left running
  // pid 1 is alive, but it is not the process that took this lock.
  const lockFile = join(dir, '.mlops/repro.lock');
  const text = readFileSync(lockFile, 'utf8');
  writeFileSync(lockFile, text.startsWith('{') ? JSON.stringify({ ...JSON.parse(text), pid: 1 }) : '1');
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  a:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n' });
  const repro = startRepro(dir);
  const timer = setTimeout(() => repro.child.kill('SIGKILL'), 20_000);
  const code = await repro.closed;
  clearTimeout(timer);
  assert.equal(code, 0, repro.output());
  assert.ok(existsSync(join(dir, 'a.txt')));
});

test('repros racing to take over one stale lock never run a stage at the same time', async (t) => {
  const dir = tempDir(t);
  // The stage fails if another copy of it is running: mkdir is atomic.
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  a:\n    cmd: mkdir busy && sleep 0.3 && rmdir busy\n    always_changed: true\n' });
  mkdirSync(join(dir, '.mlops'), { recursive: true });
  const dead = spawn('true');
  await new Promise((resolve) => dead.on('close', resolve));
  writeFileSync(join(dir, '.mlops/repro.lock'), JSON.stringify({ pid: dead.pid }));
  const codes = await Promise.all(Array.from({ length: 6 }, () => startRepro(dir)).map((r) => r.closed));
  assert.deepEqual(codes, [0, 0, 0, 0, 0, 0]);
});

test('a stage that runs mlops repro in its own project is refused with one line, not a deadlock', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  outer:\n    cmd: mlops repro inner\n  inner:\n    cmd: echo inner\n' });
  const r = await runMlops(['repro', 'outer', '--json'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: a stage of the running repro \(pid \d+\) cannot run repro/);
  const report = JSON.parse(r.stdout);
  assert.equal(report.stages.outer.exit_code, 2, 'the nested command failed as a usage error');
});

test('every run records its process; runs whose process is gone show as DEAD and runs close --stale ends them', async (t) => {
  const dir = tempDir(t);
  const script = `
    import { startRun } from ${JSON.stringify(new URL('../src/tracking/tracked-run.js', import.meta.url).href)};
    import { Project } from ${JSON.stringify(new URL('../src/project/project.js', import.meta.url).href)};
    const run = await startRun({ project: Project.open(${JSON.stringify(dir)}), stageName: 'train' });
    process.stdout.write(run.runId + '\\n');
    setTimeout(() => {}, 60000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const runId = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  const store = new FileStore(join(dir, 'mlruns'));
  const tags = (await store.getRun(runId)).tags;
  assert.equal(tags['mlops.pid'], String(child.pid));
  assert.equal(tags['mlops.host'], currentProcess().host);
  assert.ok(tags['mlops.process_start']);

  const listed = async () => JSON.parse((await runMlops(['runs', 'list', '--json'], { cwd: dir })).stdout)[0];
  assert.equal((await listed()).dead, false);
  const refused = await runMlops(['runs', 'close', runId], { cwd: dir });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /still running/);

  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal((await listed()).dead, true);
  const text = await runMlops(['runs', 'list'], { cwd: dir });
  assert.match(text.stdout, new RegExp(`${runId} .* DEAD `));
  assert.match((await runMlops(['runs', 'show', runId], { cwd: dir })).stdout, /status DEAD/);

  const closed = await runMlops(['runs', 'close', '--stale'], { cwd: dir });
  assert.equal(closed.code, 0, closed.stderr);
  assert.equal(closed.stdout, `closed run ${runId} (KILLED)\n`);
  const run = await store.getRun(runId);
  assert.equal(run.info.status, 'KILLED');
  assert.ok(run.info.end_time !== null);
  assert.equal((await runMlops(['runs', 'close', '--stale'], { cwd: dir })).stdout, 'no stale runs\n');
});

test('runs delete on a running run: the run ending afterwards keeps deleted_time; delete takes several ids', async (t) => {
  const dir = tempDir(t);
  const first = await startRun({ project: Project.open(dir), stageName: 'train' });
  const second = await startRun({ project: Project.open(dir), stageName: 'train' });
  const r = await runMlops(['runs', 'delete', first.runId, second.runId], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  await first.end('FINISHED');
  const meta = readFileSync(join(dir, 'mlruns/0', first.runId, 'meta.yaml'), 'utf8');
  assert.match(meta, /^deleted_time: \d+$/m);
  assert.match(meta, /^lifecycle_stage: deleted$/m);
  assert.match(meta, /^status: 3$/m);
  const store = new FileStore(join(dir, 'mlruns'));
  assert.equal((await store.getRun(second.runId)).info.lifecycle_stage, 'deleted');
  await second.end('FINISHED');
  // An unknown id among several: nothing is deleted.
  const third = await startRun({ project: Project.open(dir), stageName: 'train' });
  const bad = await runMlops(['runs', 'delete', third.runId, 'f'.repeat(32)], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.equal((await store.getRun(third.runId)).info.lifecycle_stage, 'active');
  await third.end('FINISHED');
});

test('a tracking folder the system refuses (permission, read-only): one error line, no stack trace', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  a:\n    cmd: echo a\n' });
  const r = await runMlops(['repro'], { cwd: dir, env: { MLOPS_TRACKING_DIR: '/sys/mlops-test-runs' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: \/sys\/mlops-test-runs: (permission denied|operation not permitted|read-only file system) \(mkdir\)\n$/);
});

test('ENOSPC while recording runs: one error line, no stack trace (as root, on a full tmpfs)', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount a small tmpfs');
  const dir = tempDir(t);
  const mnt = mkdtempSync(join(tmpdir(), 'mlops-small-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  } catch {
    rmSync(mnt, { recursive: true });
    return t.skip('mount is not allowed here');
  }
  t.after(() => {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true });
  });
  try {
    writeFileSync(join(mnt, 'fill'), Buffer.alloc(1024 * 1024));
  } catch {
    // full now
  }
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  a:\n    cmd: echo a\n' });
  const r = await runMlops(['repro'], { cwd: dir, env: { MLOPS_TRACKING_DIR: join(mnt, 'mlruns') } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: (.*mlops-small-\w+\/mlruns.*: )?no space left on device \(\w+\)\n$/);
});

test('processAlive: a pid reused by another process is not the owner', () => {
  const me = currentProcess();
  assert.equal(processAlive(me), true);
  assert.equal(processAlive({ ...me, start: '1' }), false);
  assert.equal(processAlive({ ...me, host: 'another-host.invalid' }), undefined);
});
