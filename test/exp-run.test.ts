import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMlops, tempDir, writeFiles } from './helpers.js';

// score = lr * 10 + depth, written by the stage; a cached model output too, so apply has something to restore.
const PIPELINE = `stages:
  train:
    cmd: >-
      sleep \${train.pause} && echo "lr \${train.lr}" > model.txt &&
      awk 'BEGIN { printf "{\\"score\\": %g}", \${train.lr} * 10 + \${train.depth} }' > metrics.json
    params: [train]
    outs: [model.txt]
    metrics:
      - metrics.json:
          cache: false
`;

// Aligned comments, flow lists and maps, quoting: everything but the overridden values must stay byte for byte.
const PARAMS = `# learning settings
train:
  lr: 0.1        # step size
  depth: 3       # tree depth
  pause: 0
  grid:
    n_estimators: [50, 100]
    max_depth: [10, null]  # null: grow until pure
  thresholds: {min: 0.75, max: 1}
  name: "first"
`;

const experiments = async (dir: string) =>
  JSON.parse((await runMlops(['runs', 'list', '--filter', "tags.`mlops.kind` = 'experiment'", '--json'], { cwd: dir })).stdout) as {
    info: { run_id: string; run_name: string };
    params: Record<string, string>;
    metrics: Record<string, number>;
    tags: Record<string, string>;
  }[];

test('exp run -S changes only the overridden values\' text in params.yaml', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': PARAMS, 'pipeline.yaml': PIPELINE });
  const r = await runMlops(['exp', 'run', '-S', 'train.lr=0.5', '-S', 'train.grid.n_estimators=[10, 20]', '-S', 'train.thresholds.min=0.8'], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(
    readFileSync(join(dir, 'params.yaml'), 'utf8'),
    PARAMS.replace('lr: 0.1 ', 'lr: 0.5 ').replace('[50, 100]', '[10, 20]').replace('{min: 0.75,', '{min: 0.8,'),
  );
});

test('exp run refuses keys named after Object built-ins (toString, __proto__) as unknown keys', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': PARAMS, 'pipeline.yaml': PIPELINE });
  for (const key of ['toString', 'train.constructor', '__proto__']) {
    const r = await runMlops(['exp', 'run', '-S', `${key}=5`], { cwd: dir });
    assert.equal(r.code, 2, `${key}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`no key '${key.replace('.', '\\.')}' in params\\.yaml`));
  }
  assert.equal(readFileSync(join(dir, 'params.yaml'), 'utf8'), PARAMS);
});

test('a param named __proto__ is recorded in the lock file and a change to it re-runs the stage', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'params.yaml': '__proto__: 3\ntoString: 1\n',
    'pipeline.yaml': 'stages:\n  s:\n    cmd: echo ${toString} > o.txt\n    params: [__proto__, toString]\n    outs: [o.txt]\n',
  });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  assert.match(readFileSync(join(dir, 'pipeline.lock'), 'utf8'), /params\.yaml:\n\s+__proto__: 3\n\s+toString: 1\n/);
  writeFileSync(join(dir, 'params.yaml'), '__proto__: 4\ntoString: 1\n');
  const status = await runMlops(['status'], { cwd: dir });
  assert.match(status.stdout, /s: changed \(param params\.yaml:__proto__ 3 -> 4\)/);
});

test('concurrent exp runs: each records the params its stage ran with', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': PARAMS.replace('pause: 0', 'pause: 1'), 'pipeline.yaml': PIPELINE });
  const results = await Promise.all(
    ['0.2', '0.4', '0.6'].map((lr) => runMlops(['exp', 'run', '-S', `train.lr=${lr}`, '-n', `lr${lr}`], { cwd: dir })),
  );
  for (const r of results) assert.equal(r.code, 0, r.stdout + r.stderr);
  const runs = await experiments(dir);
  assert.equal(runs.length, 3);
  for (const run of runs) {
    const lr = run.info.run_name.slice(2);
    assert.equal(run.params['train.lr'], lr, `${run.info.run_name} recorded train.lr=${run.params['train.lr']}`);
    assert.equal(run.metrics.score, Number(lr) * 10 + 3, `${run.info.run_name}: score ${run.metrics.score}`);
  }
});

test('exp run --temp leaves the workspace untouched; exp apply brings the experiment back; exp remove removes it', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': PARAMS, 'pipeline.yaml': PIPELINE });
  assert.equal((await runMlops(['exp', 'run', '-n', 'base'], { cwd: dir })).code, 0);
  const before = Object.fromEntries(['params.yaml', 'metrics.json', 'model.txt', 'pipeline.lock'].map((f) => [f, readFileSync(join(dir, f), 'utf8')]));

  const temp = await runMlops(['exp', 'run', '--temp', '-S', 'train.lr=0.7', '-n', 'hot'], { cwd: dir });
  assert.equal(temp.code, 0, temp.stdout + temp.stderr);
  for (const [f, text] of Object.entries(before)) assert.equal(readFileSync(join(dir, f), 'utf8'), text, `${f} changed`);
  assert.deepEqual(readdirSync(join(dir, '.mlops', 'tmp', 'exps')), [], 'the temporary copy is removed');
  const hot = (await experiments(dir)).find((r) => r.info.run_name === 'hot')!;
  assert.equal(hot.metrics.score, 10);
  assert.equal(hot.params['train.lr'], '0.7');

  const applied = await runMlops(['exp', 'apply', 'hot'], { cwd: dir });
  assert.equal(applied.code, 0, applied.stdout + applied.stderr);
  assert.match(applied.stdout, /applied hot \([0-9a-f]{32}\): 3 file\(s\) from the record, 1 output\(s\) restored from the cache/);
  assert.equal(readFileSync(join(dir, 'params.yaml'), 'utf8'), PARAMS.replace('lr: 0.1 ', 'lr: 0.7 '));
  assert.equal(readFileSync(join(dir, 'model.txt'), 'utf8'), 'lr 0.7\n');
  assert.equal(JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).score, 10);
  assert.equal((await runMlops(['status'], { cwd: dir })).stdout, 'Data and pipelines are up to date.\n');

  const removed = await runMlops(['exp', 'remove', 'hot', hot.info.run_id.slice(0, 8)], { cwd: dir });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, `removed hot (${hot.info.run_id})\n`);
  assert.deepEqual((await experiments(dir)).map((r) => r.info.run_name), ['base']);
  const unknown = await runMlops(['exp', 'apply', 'nope'], { cwd: dir });
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "error: no experiment 'nope' (see mlops exp show)\n");
  assert.ok(existsSync(join(dir, 'mlruns')));
});

test('a params.yaml section named __proto__ is data: interpolated as any other, never merged into Object.prototype', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'params.yaml': '__proto__:\n  polluted: yes\n',
    'pipeline.yaml': 'stages:\n  s:\n    cmd: echo "${__proto__.polluted}" > o.txt\n    params: [__proto__]\n    outs: [o.txt]\n',
  });
  const r = await runMlops(['repro'], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(readFileSync(join(dir, 'o.txt'), 'utf8'), 'yes\n');
});

test('exp apply never writes into .git, .mlops or the tracking folder, nor through a link, whatever a run folder holds', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': PARAMS, 'pipeline.yaml': PIPELINE });
  assert.equal((await runMlops(['exp', 'run', '-n', 'base'], { cwd: dir })).code, 0);
  const [run] = await experiments(dir);
  const saved = join(dir, 'mlruns', '0', run!.info.run_id, 'artifacts', 'mlops.exp');
  writeFiles(saved, { '.git/hooks/pre-commit': 'evil', '.mlops/config': 'evil', 'mlruns/0/meta.yaml': 'evil' });
  symlinkSync('/etc/hostname', join(saved, 'linked.txt'));
  const r = await runMlops(['exp', 'apply', 'base'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  for (const path of ['.git/hooks/pre-commit', '.mlops/config', 'linked.txt']) assert.equal(existsSync(join(dir, path)), false, path);
  assert.notEqual(readFileSync(join(dir, 'mlruns/0/meta.yaml'), 'utf8'), 'evil');
});
