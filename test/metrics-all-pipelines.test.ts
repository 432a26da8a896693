import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gitInit, runMlops, tempDir, writeFiles } from './helpers.js';

// As DVC: without targets, `metrics show|diff`, `params diff` and `plots show` read what every
// pipeline file of the repository declares (paths relative to the root), wherever they run from;
// `--file` narrows to one file.
function repository(t: Parameters<typeof tempDir>[0]): string {
  const dir = tempDir(t);
  const pipeline = (name: string) => `
stages:
  ${name}:
    cmd: echo ${name}
    params: [${name}.rate]
    metrics:
      - m.json:
          cache: false
    plots:
      - loss.csv:
          cache: false
plots:
  - curve:
      y: {curve.csv: acc}
      title: Curve ${name}
`;
  writeFiles(dir, {
    'sub/a/params.yaml': 'a:\n  rate: 1\n',
    'sub/b/params.yaml': 'b:\n  rate: 2\n',
    'sub/a/dvc.yaml': pipeline('a'),
    'sub/a/m.json': JSON.stringify({ acc: 0.5 }),
    'sub/a/loss.csv': 'loss\n0.9\n0.4\n',
    'sub/a/curve.csv': 'acc\n0.1\n0.2\n',
    'sub/b/dvc.yaml': pipeline('b'),
    'sub/b/m.json': JSON.stringify({ acc: 0.7 }),
    'sub/b/loss.csv': 'loss\n0.8\n0.3\n',
    'sub/b/curve.csv': 'acc\n0.3\n0.4\n',
  });
  gitInit(dir);
  return dir;
}

test('metrics show from a sub-folder: every pipeline file’s metrics, root-relative; --file narrows to one', async (t) => {
  const dir = repository(t);
  const cwd = join(dir, 'sub', 'a');
  const all = await runMlops(['metrics', 'show', '--json'], { cwd });
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(JSON.parse(all.stdout), { 'sub/a/m.json': { acc: 0.5 }, 'sub/b/m.json': { acc: 0.7 } });
  const one = await runMlops(['metrics', 'show', '--json', '--file', '../b/dvc.yaml'], { cwd });
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(JSON.parse(one.stdout), { 'sub/b/m.json': { acc: 0.7 } });
});

test('metrics diff and params diff from a sub-folder compare every pipeline file’s files', async (t) => {
  const dir = repository(t);
  writeFiles(dir, { 'sub/b/m.json': JSON.stringify({ acc: 0.9 }), 'sub/b/params.yaml': 'b:\n  rate: 3\n' });
  const cwd = join(dir, 'sub', 'a');
  const metrics = await runMlops(['metrics', 'diff', '--json', '--all'], { cwd });
  assert.equal(metrics.code, 0, metrics.stderr);
  assert.deepEqual(Object.keys(JSON.parse(metrics.stdout)).sort(), ['sub/a/m.json', 'sub/b/m.json']);
  assert.equal(JSON.parse(metrics.stdout)['sub/b/m.json'].acc.new, 0.9);
  const params = await runMlops(['params', 'diff', '--json'], { cwd });
  assert.equal(params.code, 0, params.stderr);
  assert.deepEqual(JSON.parse(params.stdout), { 'sub/b/params.yaml': { 'b.rate': { old: 2, new: 3 } } });
  const narrowed = await runMlops(['metrics', 'diff', '--json', '--file', 'dvc.yaml'], { cwd });
  assert.deepEqual(JSON.parse(narrowed.stdout), {});
});

test('plots show from a sub-folder draws every pipeline file’s plots, top-level ones read beside their file', async (t) => {
  const dir = repository(t);
  const cwd = join(dir, 'sub', 'a');
  const r = await runMlops(['plots', 'show', '-o', join(dir, 'out')], { cwd });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /skipped plot/);
  const html = readFileSync(join(dir, 'out', 'index.html'), 'utf8');
  for (const title of ['sub/a/loss.csv', 'sub/b/loss.csv', 'Curve a', 'Curve b']) assert.ok(html.includes(`<h2>${title}`), `no chart ${title}`);
  const one = await runMlops(['plots', 'show', '-o', join(dir, 'one'), '--file', 'dvc.yaml'], { cwd });
  assert.equal(one.code, 0, one.stderr);
  assert.ok(!readFileSync(join(dir, 'one', 'index.html'), 'utf8').includes('<h2>Curve b'));
});

test('metrics show reads the pipelines repro runs: none from inside the tracking folder', async (t) => {
  const dir = repository(t);
  writeFiles(dir, {
    'mlruns/stray/dvc.yaml': 'stages:\n  s:\n    cmd: echo s\n    metrics:\n      - m.json:\n          cache: false\n',
    'mlruns/stray/m.json': JSON.stringify({ acc: 0.9 }),
  });
  const r = await runMlops(['metrics', 'show', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { 'sub/a/m.json': { acc: 0.5 }, 'sub/b/m.json': { acc: 0.7 } });
});
