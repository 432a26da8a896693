import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMlops, tempDir, writeFiles } from './helpers.js';

// A no-op run starts from .mlops/snapshot.json (the last full parse) while none of its sources changed.
// These tests change each kind of source and check that the change is still seen.

const runs = (dir: string) => readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n');

test('a no-op run uses the snapshot; an edited vars file still re-runs the stage', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'config.yaml': 'greeting: hello\n',
    'pipeline.yaml': 'vars:\n  - config.yaml\nstages:\n  s:\n    cmd: echo ${greeting} >> runs.log && echo ${greeting} > out.txt\n    outs: [out.txt]\n',
  });
  await runMlops(['repro'], { cwd: dir });
  assert.ok(existsSync(join(dir, '.mlops/snapshot.json')));
  assert.match((await runMlops(['repro'], { cwd: dir })).stdout, /s: up to date/);
  writeFileSync(join(dir, 'config.yaml'), 'greeting: bonjour\n');
  const r = await runMlops(['repro'], { cwd: dir });
  assert.match(r.stdout, /s: running \(cmd changed\)/);
  assert.deepEqual(runs(dir), ['hello', 'bonjour']);
});

test('a params file edited while its stage runs is seen as changed on the next run', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'params.yaml': 'x: 1\n',
    // The command itself edits params.yaml after the run read it: the lock holds x=1, the file x=2.
    'pipeline.yaml': "stages:\n  s:\n    cmd: >-\n      echo run >> runs.log && echo ok > out.txt && sed -i 's/x: 1/x: 2/' params.yaml\n    params: [x]\n    outs: [out.txt]\n",
  });
  await runMlops(['repro'], { cwd: dir });
  assert.equal(readFileSync(join(dir, 'params.yaml'), 'utf8'), 'x: 2\n');
  const r = await runMlops(['repro'], { cwd: dir });
  assert.match(r.stdout, /s: running \(param params\.yaml:x 1 -> 2\)/);
});

test('the snapshot belongs to one pipeline file: -f another file is parsed, not taken from it', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': 'stages:\n  a:\n    cmd: echo a >> runs.log && echo a > a.txt\n    outs: [a.txt]\n',
    'other.yaml': 'stages:\n  b:\n    cmd: echo b >> runs.log && echo b > b.txt\n    outs: [b.txt]\n',
  });
  await runMlops(['repro'], { cwd: dir });
  await runMlops(['repro'], { cwd: dir });
  const other = await runMlops(['repro', '--file', 'other.yaml'], { cwd: dir });
  assert.match(other.stdout, /b: running/);
  assert.match((await runMlops(['repro'], { cwd: dir })).stdout, /a: up to date/);
  assert.deepEqual(runs(dir), ['a', 'b']);
});

test('a damaged snapshot is ignored', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  a:\n    cmd: echo a >> runs.log && echo a > a.txt\n    outs: [a.txt]\n' });
  await runMlops(['repro'], { cwd: dir });
  writeFileSync(join(dir, '.mlops/snapshot.json'), '{"version": 1, "truncat');
  const r = await runMlops(['repro'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /a: up to date/);
  assert.deepEqual(runs(dir), ['a']);
});

test('a copied project checks its own files, not the original\'s (issue 9.1)', async (t) => {
  const base = tempDir(t);
  const a = join(base, 'a');
  writeFiles(a, { 'in.txt': '1\n', 'pipeline.yaml': 'stages:\n  s:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n' });
  await runMlops(['repro'], { cwd: a });
  const b = join(base, 'b');
  execFileSync('cp', ['-a', a, b]);
  writeFileSync(join(b, 'in.txt'), '2\n');
  assert.match((await runMlops(['status'], { cwd: b })).stdout, /in\.txt/);
  assert.match((await runMlops(['repro'], { cwd: b })).stdout, /s: running \(dep 'in\.txt' modified\)/);
  assert.equal(readFileSync(join(b, 'out.txt'), 'utf8'), '2\n');
  assert.equal(readFileSync(join(a, 'out.txt'), 'utf8'), '1\n');
  const snapshot = readFileSync(join(b, '.mlops/snapshot.json'), 'utf8');
  assert.ok(!snapshot.includes(`"${a}/`), 'no path of the original in the copy\'s snapshot');
  // The original is still answered from its own snapshot.
  assert.match((await runMlops(['repro'], { cwd: a })).stdout, /s: up to date/);
});

test('the tracking folder is not walked for pipeline files: a recorded run leaves the snapshot valid', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': 'stages:\n  a:\n    cmd: echo a >> runs.log && echo a > a.txt\n    outs: [a.txt]\n',
    // a pipeline file in there is not the project's
    'mlruns/stray/pipeline.yaml': 'stages:\n  b:\n    cmd: echo b > b.txt\n',
  });
  await runMlops(['repro'], { cwd: dir });
  // parsed again with the runs of the first repro in mlruns/
  await runMlops(['repro', '-f'], { cwd: dir });
  assert.ok(existsSync(join(dir, 'mlruns/0')), 'each stage run is recorded in mlruns/');
  const { sources } = JSON.parse(readFileSync(join(dir, '.mlops/snapshot.json'), 'utf8')) as { sources: Record<string, string> };
  assert.ok('pipeline.yaml' in sources, Object.keys(sources).join());
  assert.deepEqual(Object.keys(sources).filter((s) => s.startsWith('mlruns')), []);
  assert.deepEqual(runs(dir), ['a', 'a']);
});
