import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gitInit, runMlops, tempDir, writeFiles } from './helpers.js';

// A real repository with three states of the same files: the first commit, HEAD, and the workspace.
const FIRST = {
  'reports/metrics.json': JSON.stringify({ accuracy: 0.8, f1: { macro: 0.7712345678 }, model: 'rf', n_test: 420, removed_later: 1 }),
  'params.yaml': 'train:\n  n_estimators: 100\n  max_depth: 10\n  criterion: gini\nprepare:\n  split: 0.2\n',
};
const SECOND = {
  'reports/metrics.json': JSON.stringify({ accuracy: 0.85, f1: { macro: 0.8123456789 }, model: 'rf', n_test: 420, added: 3 }),
  'reports/extra.yaml': 'loss: 0.5\n',
  'params.yaml': 'train:\n  n_estimators: 300\n  max_depth: 10\n  criterion: entropy\nprepare:\n  split: 0.2\n',
};
const WORKSPACE = {
  'reports/metrics.json': JSON.stringify({ accuracy: 0.9, f1: { macro: 0.8123456789 }, model: 'forest', n_test: 420, added: 3 }),
  'params.yaml': 'train:\n  n_estimators: 300\n  max_depth: null\n  criterion: entropy\n  seed: 7\nprepare:\n  split: 0.2\n',
};
const TARGETS = ['--targets', 'reports/metrics.json', 'reports/extra.yaml'];

function repo(t: Parameters<typeof tempDir>[0]): string {
  const dir = tempDir(t);
  writeFiles(dir, FIRST);
  gitInit(dir);
  writeFiles(dir, SECOND);
  execFileSync('git', ['add', '-A'], { cwd: dir });
  execFileSync('git', ['commit', '-q', '-m', 'more trees'], { cwd: dir });
  writeFiles(dir, WORKSPACE);
  return dir;
}

test('metrics diff --json: HEAD vs workspace, only changed keys, diff only for numbers', async (t) => {
  const dir = repo(t);
  const r = await runMlops(['metrics', 'diff', ...TARGETS, '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    'reports/metrics.json': {
      accuracy: { old: 0.85, new: 0.9, diff: 0.9 - 0.85 },
      model: { old: 'rf', new: 'forest' },
    },
  });
});

test('metrics diff between two commits: added and removed keys, a file missing at the old revision', async (t) => {
  const dir = repo(t);
  const r = await runMlops(['metrics', 'diff', 'HEAD~1', 'HEAD', ...TARGETS, '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    'reports/metrics.json': {
      accuracy: { old: 0.8, new: 0.85, diff: 0.85 - 0.8 },
      'f1.macro': { old: 0.7712345678, new: 0.8123456789, diff: 0.8123456789 - 0.7712345678 },
      removed_later: { old: 1, new: null },
      added: { old: null, new: 3 },
    },
    'reports/extra.yaml': { loss: { old: null, new: 0.5 } },
  });
});

test('metrics diff --all keeps unchanged keys; a file deleted in the workspace shows new null', async (t) => {
  const dir = repo(t);
  rmSync(join(dir, 'reports/extra.yaml'));
  const r = await runMlops(['metrics', 'diff', ...TARGETS, '--all', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out['reports/metrics.json'].n_test, { old: 420, new: 420, diff: 0 });
  assert.deepEqual(out['reports/metrics.json'].model, { old: 'rf', new: 'forest' });
  assert.deepEqual(out['reports/extra.yaml'], { loss: { old: 0.5, new: null } });
});

test('metrics diff table: DVC columns, floats rounded to --precision, "-" where a side is missing', async (t) => {
  const dir = repo(t);
  const r = await runMlops(['metrics', 'diff', 'HEAD~1', ...TARGETS], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^Path\s+Metric\s+HEAD~1\s+workspace\s+Change$/);
  const row = (key: string) => lines.find((l) => l.split(/\s+/)[1] === key)?.split(/\s+/);
  assert.deepEqual(row('f1.macro'), ['reports/metrics.json', 'f1.macro', '0.77123', '0.81235', '0.04111']);
  assert.deepEqual(row('model'), ['reports/metrics.json', 'model', 'rf', 'forest', '-']);
  assert.deepEqual(row('loss'), ['reports/extra.yaml', 'loss', '-', '0.5', '-']);

  const two = await runMlops(['metrics', 'diff', 'HEAD~1', ...TARGETS, '--precision', '2'], { cwd: dir });
  assert.ok(two.stdout.split('\n').some((l) => /f1\.macro\s+0\.77\s+0\.81\s+0\.04$/.test(l)), two.stdout);
});

test('metrics diff --md prints a markdown table', async (t) => {
  const dir = repo(t);
  const r = await runMlops(['metrics', 'diff', ...TARGETS, '--md'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], '| Path | Metric | HEAD | workspace | Change |');
  assert.equal(lines[1], '|---|---|---|---|---|');
  assert.ok(lines.includes('| reports/metrics.json | accuracy | 0.85 | 0.9 | 0.05 |'), r.stdout);
});

test('a revision that does not exist: exit 2 naming it, nothing printed on stdout', async (t) => {
  const dir = repo(t);
  for (const args of [['metrics', 'diff', 'no-such-rev', ...TARGETS], ['params', 'diff', 'HEAD', 'v9.9', '--targets', 'params.yaml']]) {
    const r = await runMlops(args, { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /error: unknown revision '(no-such-rev|v9\.9)'/);
    assert.equal(r.stdout, '');
  }
});

test('outside a git repository: exit 2 with one clear line', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, FIRST);
  const r = await runMlops(['metrics', 'diff', ...TARGETS], { cwd: dir, env: { GIT_CEILING_DIRECTORIES: dir } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: .* is not inside a git repository\n$/);
});

test('a malformed metrics file at a revision: exit 2 naming the file and the revision', async (t) => {
  const dir = repo(t);
  writeFiles(dir, { 'reports/metrics.json': '{"accuracy": 0.9,' });
  execFileSync('git', ['commit', '-qam', 'broken'], { cwd: dir });
  const r = await runMlops(['metrics', 'diff', 'HEAD~1', 'HEAD', ...TARGETS], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: reports\/metrics\.json \(at HEAD\)(:\d+)?: invalid YAML/);
});

test('params diff: same shape without diff, Param column and no Change column', async (t) => {
  const dir = repo(t);
  const json = await runMlops(['params', 'diff', 'HEAD~1', '--targets', 'params.yaml', '--json'], { cwd: dir });
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), {
    'params.yaml': {
      'train.n_estimators': { old: 100, new: 300 },
      'train.max_depth': { old: 10, new: null },
      'train.criterion': { old: 'gini', new: 'entropy' },
      'train.seed': { old: null, new: 7 },
    },
  });
  const table = await runMlops(['params', 'diff', 'HEAD~1', '--targets', 'params.yaml'], { cwd: dir });
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^Path\s+Param\s+HEAD~1\s+workspace$/);
  assert.deepEqual(lines[1]!.split(/\s+/), ['params.yaml', 'train.n_estimators', '100', '300']);
  const md = await runMlops(['params', 'diff', '--targets', 'params.yaml', '--md', '--all'], { cwd: dir });
  assert.match(md.stdout, /^\| Path \| Param \| HEAD \| workspace \|\n/);
  assert.match(md.stdout, /\| params\.yaml \| prepare\.split \| 0\.2 \| 0\.2 \|/);
});

test('no change: empty JSON object, and a note instead of an empty table', async (t) => {
  const dir = repo(t);
  const json = await runMlops(['metrics', 'diff', 'HEAD', 'HEAD', ...TARGETS, '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(json.stdout), {});
  const text = await runMlops(['metrics', 'diff', 'HEAD', 'HEAD', ...TARGETS], { cwd: dir });
  assert.equal(text.code, 0);
  assert.equal(text.stdout, '');
  assert.match(text.stderr, /no metrics changed between HEAD and HEAD/);
});

test('metrics diff and params diff before the first commit compare against nothing, as DVC does', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, WORKSPACE);
  execFileSync('git', ['init', '-q'], { cwd: dir });
  const metrics = await runMlops(['metrics', 'diff', '--json', ...TARGETS], { cwd: dir });
  assert.equal(metrics.code, 0, metrics.stderr);
  assert.equal(JSON.parse(metrics.stdout)['reports/metrics.json'].accuracy.new, 0.9);
  assert.equal(JSON.parse(metrics.stdout)['reports/metrics.json'].accuracy.old, null);
  const params = await runMlops(['params', 'diff', '--targets', 'params.yaml', '--json'], { cwd: dir });
  assert.equal(params.code, 0, params.stderr);
  assert.equal(JSON.parse(params.stdout)['params.yaml']['train.n_estimators'].new, 300);
  const unknown = await runMlops(['metrics', 'diff', 'v1', ...TARGETS], { cwd: dir });
  assert.equal(unknown.code, 2, 'a revision other than HEAD still has to exist');
});
