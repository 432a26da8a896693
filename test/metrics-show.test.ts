import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { gitInit, MLOPS_BIN, PROJECT_ROOT, runMlops, tempDir, writeFiles } from './helpers.js';

// A pipeline declaring metrics two ways (a stage's `metrics:` output and the top-level list), params in
// params.yaml (stage keys) and in a second file tracked whole.
const PIPELINE = `
stages:
  evaluate:
    cmd: echo evaluate
    deps: [model.bin]
    params: [train.n_estimators, {other.yaml: []}]
    metrics:
      - reports/metrics.json:
          cache: false
metrics:
  - reports/summary.csv
`;

function project(t: Parameters<typeof tempDir>[0]): string {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': PIPELINE,
    'model.bin': 'x',
    'params.yaml': 'train:\n  n_estimators: 100\n',
    'other.yaml': 'threshold: 0.5\n',
    // Lists and nulls are not metrics (DVC leaves them out too).
    'reports/metrics.json': JSON.stringify({ accuracy: 0.912345678, f1: { macro: 0.9, weighted: 0.91 }, classes: 7, folds: [0.9, 0.8], none: null }),
    'reports/summary.csv': 'epoch,loss,note\n1,0.9,first\n2,0.4,last row wins\n',
  });
  return dir;
}

test('metrics show: every declared file, flattened keys, floats rounded, "-" where a file lacks a key', async (t) => {
  const dir = project(t);
  const r = await runMlops(['metrics', 'show'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
  assert.deepEqual(lines[0], ['Path', 'accuracy', 'f1.macro', 'f1.weighted', 'classes', 'epoch', 'loss', 'note']);
  assert.deepEqual(lines[1], ['reports/metrics.json', '0.91235', '0.9', '0.91', '7', '-', '-', '-']);
  assert.deepEqual(lines[2], ['reports/summary.csv', '-', '-', '-', '-', '2', '0.4', 'last row wins']);
});

test('metrics show --json is keyed by file then key; --md prints markdown; --precision applies', async (t) => {
  const dir = project(t);
  const json = await runMlops(['metrics', 'show', '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(json.stdout), {
    'reports/metrics.json': { accuracy: 0.912345678, 'f1.macro': 0.9, 'f1.weighted': 0.91, classes: 7 },
    'reports/summary.csv': { epoch: 2, loss: 0.4, note: 'last row wins' },
  });
  const md = await runMlops(['metrics', 'show', 'reports/metrics.json', '--md', '--precision', '2'], { cwd: dir });
  assert.equal(md.stdout, '| Path | accuracy | f1.macro | f1.weighted | classes |\n|---|---|---|---|---|\n| reports/metrics.json | 0.91 | 0.9 | 0.91 | 7 |\n');
  const both = await runMlops(['metrics', 'show', '--json', '--md'], { cwd: dir });
  assert.equal(both.code, 2);
});

test('metrics show --all-commits: one block per commit, newest first, read at each commit', async (t) => {
  const dir = project(t);
  gitInit(dir);
  writeFiles(dir, { 'reports/metrics.json': JSON.stringify({ accuracy: 0.95 }) });
  execFileSync('git', ['commit', '-qam', 'better model'], { cwd: dir });
  writeFiles(dir, { 'reports/metrics.json': JSON.stringify({ accuracy: 0.5 }) }); // workspace only: not shown
  const log = execFileSync('git', ['log', '--format=%h'], { cwd: dir, encoding: 'utf8' }).trim().split('\n');

  const json = await runMlops(['metrics', 'show', '-A', '--json', 'reports/metrics.json'], { cwd: dir });
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), {
    [log[0]!]: { 'reports/metrics.json': { accuracy: 0.95 } },
    [log[1]!]: { 'reports/metrics.json': { accuracy: 0.912345678, 'f1.macro': 0.9, 'f1.weighted': 0.91, classes: 7 } },
  });
  const text = await runMlops(['metrics', 'show', '--all-commits', 'reports/metrics.json'], { cwd: dir });
  const blocks = text.stdout.split(/\n(?=[0-9a-f]{7,} )/).map((b) => b.trim());
  assert.equal(blocks.length, 2);
  assert.match(blocks[0]!, new RegExp(`^${log[0]} better model\\nPath\\s+accuracy\\nreports/metrics.json\\s+0.95$`));
  assert.match(blocks[1]!, new RegExp(`^${log[1]} initial\\n`));
});

test('params diff with no --targets: params.yaml and the other files stages track', async (t) => {
  const dir = project(t);
  gitInit(dir);
  writeFiles(dir, { 'params.yaml': 'train:\n  n_estimators: 300\n', 'other.yaml': 'threshold: 0.7\n' });
  const r = await runMlops(['params', 'diff', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    'params.yaml': { 'train.n_estimators': { old: 100, new: 300 } },
    'other.yaml': { threshold: { old: 0.5, new: 0.7 } },
  });
  const metrics = await runMlops(['metrics', 'diff', '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(metrics.stdout), {});
});

test('bad input: a missing declared file warns, a malformed one is exit 2 naming it', async (t) => {
  const dir = project(t);
  writeFiles(dir, { 'reports/summary.csv': 'epoch,loss\n' });
  const r = await runMlops(['metrics', 'show'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'error: reports/summary.csv: no data row under the header\n');

  writeFiles(dir, { 'reports/metrics.json': '[1, 2]' });
  const list = await runMlops(['metrics', 'show', 'reports/metrics.json', 'reports/nothing.json'], { cwd: dir });
  assert.equal(list.code, 2);
  assert.equal(list.stderr, 'error: reports/metrics.json: expected a mapping of metrics\n');

  writeFiles(dir, { 'reports/metrics.json': '{"a": 1}' });
  const missing = await runMlops(['metrics', 'show', 'reports/metrics.json', 'reports/nothing.json'], { cwd: dir });
  assert.equal(missing.code, 0);
  assert.equal(missing.stderr, 'warning: not found: reports/nothing.json\n');
  assert.match(missing.stdout, /^Path\s+a\nreports\/metrics.json\s+1\n$/);

  const noPipeline = await runMlops(['metrics', 'show', '--file', 'nope.yaml'], { cwd: dir });
  assert.equal(noPipeline.code, 2);
  assert.match(noPipeline.stderr, /nope\.yaml: pipeline file not found/);
});

test('metrics show on a narrow terminal prints one row per metric; piped, one row per file', async (t) => {
  const dir = tempDir(t);
  const values = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`metric_number_${i}`, i / 4]));
  writeFiles(dir, {
    'pipeline.yaml': 'stages:\n  s:\n    cmd: "true"\n    metrics:\n      - m.json:\n          cache: false\n',
    'm.json': JSON.stringify(values),
  });
  const env: NodeJS.ProcessEnv = { ...process.env, MLOPS_ROOT: '' };
  delete env.CI;
  const shown = spawnSync('script', ['-qfc', `stty cols 60; ${process.execPath} ${MLOPS_BIN} metrics show`, '/dev/null'], { cwd: dir, env, encoding: 'utf8' });
  const lines = shown.stdout.split(/\r?\n/).filter(Boolean);
  assert.deepEqual(lines.slice(0, 3).map((l) => l.split(/\s+/)), [['Path', 'Metric', 'Value'], ['m.json', 'metric_number_0', '0'], ['m.json', 'metric_number_1', '0.25']]);
  assert.equal(lines.length, 13);
  const piped = await runMlops(['metrics', 'show'], { cwd: dir });
  assert.equal(piped.stdout.split('\n').length, 3);
});

test("the default example declares only evaluate's headline metrics; the drift report, CV results and per-class scores are plain outputs", async () => {
  const { loadPipeline } = await import('../src/pipeline/load.js');
  const { metricsFiles } = await import('../src/metrics/collect.js');
  const pipeline = loadPipeline(PROJECT_ROOT, 'pipeline.yaml');
  assert.deepEqual(metricsFiles([pipeline]), ['reports/metrics.json']);
  const outs = pipeline.stages.flatMap((s) => s.outs).filter((o) => ['reports/drift.json', 'reports/cv_results.json', 'reports/per_class.json'].includes(o.rel));
  assert.deepEqual(outs.map((o) => [o.rel, o.kind, o.cache]), [
    ['reports/cv_results.json', 'outs', false],
    ['reports/per_class.json', 'outs', false],
    ['reports/drift.json', 'outs', false],
  ]);
});

test('the repository does not git-ignore the lock file or the metrics reports (committed, as DVC users do)', () => {
  const ignored = spawnSync('git', ['check-ignore', '--no-index', 'pipeline.lock', 'reports/metrics.json', 'models/model.json'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  assert.equal(ignored.stdout, 'models/model.json\n');
});
