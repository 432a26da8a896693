import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { parse } from 'yaml';
import { MLOPS_BIN, runMlops, tempDir, writeFiles } from './helpers.js';

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if (check()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const HELD_STAGE = 'stages:\n  slow:\n    cmd: touch started && while [ ! -f go ]; do sleep 0.05; done && echo done > out.txt\n    outs: [out.txt]\n';

/**
 * Starts a repro whose stage runs until `go` exists, then `mlops <args>` beside it, and resolves once
 * that second command says (on `stream`) that it waits for the repro. `release` lets the stage finish.
 */
async function besideRunningRepro(dir: string, args: string[], stream: 'stdout' | 'stderr') {
  writeFiles(dir, { 'pipeline.yaml': HELD_STAGE });
  const repro = runMlops(['repro'], { cwd: dir });
  await waitFor(() => existsSync(join(dir, 'started')), 'the repro to start its stage');
  const other = spawn(process.execPath, [MLOPS_BIN, ...args], { cwd: dir, env: { ...process.env, CI: 'true' } });
  let output = '';
  other[stream].on('data', (d) => (output += d));
  const exit = new Promise<number>((r) => other.once('close', (code) => r(code ?? -1)));
  await waitFor(() => output.includes('waiting for another mlops repro'), `mlops ${args[0]} to wait`);
  return { repro, exit, output: () => output, release: () => writeFileSync(join(dir, 'go'), '') };
}

test('a second repro in the same project waits for the first, says so, and both succeed', async (t) => {
  const second = await besideRunningRepro(tempDir(t), ['repro'], 'stdout');
  second.release();
  const first = await second.repro;
  assert.equal(first.code, 0, first.stderr);
  assert.equal(await second.exit, 0);
  assert.match(second.output(), /waiting for another mlops repro in this project to finish \(pid \d+\)/);
  assert.match(second.output(), /slow: up to date/);
});

test('kill -9 in the middle of a run leaves a valid lock and cache, and the next repro recovers', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'params.yaml': 'v: 1\n',
    'pipeline.yaml': `stages:
  first:
    cmd: echo \${v} > a.txt
    params: [v]
    outs: [a.txt]
  second:
    cmd: touch started && sleep 30 && cp a.txt b.txt
    deps: [a.txt]
    outs: [b.txt]
`,
  });
  assert.equal((await runMlops(['repro', 'first'], { cwd: dir })).code, 0);
  writeFileSync(join(dir, 'params.yaml'), 'v: 2\n');
  const child = spawn(process.execPath, [MLOPS_BIN, 'repro'], { cwd: dir, env: { ...process.env, CI: 'true' }, stdio: 'ignore', detached: true });
  await waitFor(() => existsSync(join(dir, 'started')), 'the second stage to start');
  process.kill(-child.pid!, 'SIGKILL'); // the whole process group, as a crash or an OOM kill would
  await new Promise((r) => child.once('exit', r));

  const lock = parse(readFileSync(join(dir, 'pipeline.lock'), 'utf8'));
  assert.equal(lock.stages.first.params['params.yaml'].v, 2); // the stage that completed was recorded
  assert.equal(lock.stages.second, undefined);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), []);

  writeFileSync(join(dir, 'pipeline.yaml'), readFileSync(join(dir, 'pipeline.yaml'), 'utf8').replace('sleep 30', 'true'));
  const r = await runMlops(['repro'], { cwd: dir }); // takes over the dead run's repo lock
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /first: up to date/);
  assert.equal(readFileSync(join(dir, 'b.txt'), 'utf8'), '2\n');
});

test('a config error exits 2 with one located line and writes nothing', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo hi > o.txt\n    outz: [o.txt]\n' });
  const r = await runMlops(['repro'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /pipeline\.yaml:4/);
  assert.match(r.stderr, /outz/);
  assert.deepEqual(readdirSync(dir).sort(), ['pipeline.yaml']);
});

test('a damaged lock file is a located config error, not a crash', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo hi\n', 'pipeline.lock': 'schema: "1.0"\nstages: {}\n' });
  const r = await runMlops(['status'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /pipeline\.lock:1: 'schema': unsupported lock schema '1\.0'/);
});

test('gc waits for a running repro instead of collecting the objects it is adding', async (t) => {
  const dir = tempDir(t);
  const gc = await besideRunningRepro(dir, ['gc', '-f'], 'stderr');
  gc.release();
  assert.equal((await gc.repro).code, 0);
  assert.equal(await gc.exit, 0);
  rmSync(join(dir, 'out.txt'));
  assert.equal((await runMlops(['checkout'], { cwd: dir })).code, 0); // the new object survived gc
  assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'done\n');
});

test('a tracking folder configured elsewhere than mlruns is refused as an output, like mlruns (issue 9.10)', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    '.mlops/config': '[tracking]\n    uri = store/runs\n',
    'pipeline.yaml': 'stages:\n  wipe:\n    cmd: mkdir -p store && echo x > store/x\n    outs:\n      - store\n',
    'store/runs/0/meta.yaml': 'name: Default\n',
  });
  const refused = await runMlops(['repro'], { cwd: dir });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /pipeline\.yaml:5.*output 'store' would overwrite 'store\/runs'/);
  assert.ok(existsSync(join(dir, 'store/runs/0/meta.yaml')), 'the runs are kept');
  // From the environment too, which wins over the config file.
  writeFiles(dir, { '.mlops/config': '', 'pipeline.yaml': 'stages:\n  wipe:\n    cmd: echo x > elsewhere\n    outs:\n      - elsewhere\n' });
  const fromEnv = await runMlops(['repro'], { cwd: dir, env: { MLOPS_TRACKING_URI: join(dir, 'elsewhere') } });
  assert.equal(fromEnv.code, 2, fromEnv.stderr);
  assert.match(fromEnv.stderr, /output 'elsewhere' would overwrite 'elsewhere'/);
});
