import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMlops, tempDir, writeFiles } from './helpers.js';
import { validateMlruns } from './tracking-validator.js';

// A pipeline whose metric is a known function of its params: score = lr * 10 + depth.
const PROJECT = {
  'params.yaml': '# learning settings\ntrain:\n  lr: 0.1   # step size\n  depth: 3\nseed: 7\n',
  'pipeline.yaml': `stages:
  train:
    cmd: >-
      awk 'BEGIN { printf "{\\"score\\": %g}", \${train.lr} * 10 + \${train.depth} }' > metrics.json
    params: [train]
    metrics:
      - metrics.json:
          cache: false
`,
};

test('exp run writes overrides (keeping comments), reproduces, and records the experiment as a run', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, PROJECT);
  const r = await runMlops(['exp', 'run', '-S', 'train.lr=0.5', '-S', 'train.depth=4', '-n', 'bigger'], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /train: running/);
  assert.match(r.stdout, /experiment recorded as run [0-9a-f]{32}/);
  const params = readFileSync(join(dir, 'params.yaml'), 'utf8');
  assert.match(params, /# learning settings/);
  assert.match(params, /lr: 0\.5 +# step size/);
  assert.match(params, /depth: 4/);
  assert.equal(JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).score, 9);

  const runs = JSON.parse((await runMlops(['runs', 'list', '--filter', "tags.`mlops.kind` = 'experiment'", '--json'], { cwd: dir })).stdout);
  assert.equal(runs.length, 1);
  assert.equal(runs[0].info.run_name, 'bigger');
  assert.equal(runs[0].params['train.lr'], '0.5');
  assert.equal(runs[0].metrics.score, 9);
  assert.equal(runs[0].tags['mlops.exp.overrides'], 'train.lr=0.5 train.depth=4');
  assert.deepEqual(validateMlruns(join(dir, 'mlruns')), []);
});

test('exp run with a metric key MLflow cannot store: one line naming the file, exit 2, no half-recorded run', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    ...PROJECT,
    'pipeline.yaml': PROJECT['pipeline.yaml'].replace('\\"score\\"', '\\"acc@1\\"'),
  });
  const r = await runMlops(['exp', 'run', '-n', 'odd'], { cwd: dir });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.equal(existsSync(join(dir, 'mlruns')), false, 'no run left RUNNING or half-recorded');
  assert.equal(r.stderr, "error: metrics.json: metric 'acc@1' cannot be recorded as an MLflow run: names may only contain letters, digits, _ - . / and spaces\n");
});

test('exp show lists the workspace and each experiment; --only-changed, --sort-by, --csv, --md, --json', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, PROJECT);
  await runMlops(['exp', 'run', '-n', 'base'], { cwd: dir });
  await runMlops(['exp', 'run', '-S', 'train.lr=0.3', '-n', 'lr03'], { cwd: dir });
  await runMlops(['exp', 'run', '-S', 'train.lr=0.2', '-n', 'lr02'], { cwd: dir });

  const json = JSON.parse((await runMlops(['exp', 'show', '--json'], { cwd: dir })).stdout);
  assert.deepEqual(json.map((r: { name: string }) => r.name), ['workspace', 'lr02', 'lr03', 'base']);
  assert.equal(json[0].metrics.score, 5);

  const sorted = await runMlops(['exp', 'show', '--only-changed', '--sort-by', 'score', '--sort-order', 'desc', '--csv'], { cwd: dir });
  const [header, ...rows] = sorted.stdout.trim().split('\n');
  assert.equal(header, 'Experiment,Created,State,score,train.lr'); // depth and seed never changed
  assert.deepEqual(rows.map((l) => [l.split(',')[0], l.split(',')[2], l.split(',')[3]]), [['workspace', '', '5'], ['lr03', 'Success', '6'], ['lr02', 'Success', '5'], ['base', 'Success', '4']]);

  // The workspace now equals the last experiment, list-valued params included: nothing differs.
  await runMlops(['exp', 'run', '-S', 'seed=[1, 2]', '-n', 'listed'], { cwd: dir });
  const two = JSON.parse((await runMlops(['exp', 'show', '--json'], { cwd: dir })).stdout).slice(0, 2);
  assert.deepEqual(two[0].params, two[1].params);

  const md = await runMlops(['exp', 'show', '--md'], { cwd: dir });
  assert.match(md.stdout, /^\| Experiment \| Created \| State \| score \| seed \| train\.depth \| train\.lr \|/);
  const text = await runMlops(['exp', 'show'], { cwd: dir });
  assert.match(text.stdout, /^Experiment\s+Created\s+State\s+score/);
});

test('exp run refuses an unknown key with a suggestion, exit 2, and changes nothing', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, PROJECT);
  const before = readFileSync(join(dir, 'params.yaml'), 'utf8');
  const r = await runMlops(['exp', 'run', '-S', 'train.lr=0.2', '-S', 'train.dept=5'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no key 'train\.dept' in params\.yaml \(did you mean 'train\.depth'\?\)/);
  assert.equal(readFileSync(join(dir, 'params.yaml'), 'utf8'), before);
  const sortBad = await runMlops(['exp', 'show', '--sort-by', 'nope'], { cwd: dir });
  assert.equal(sortBad.code, 2);
});

test('a failing experiment is recorded as FAILED and exits 1', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': 'x: 1\n', 'pipeline.yaml': 'stages:\n  s:\n    cmd: test ${x} -eq 1\n    params: [x]\n' });
  const r = await runMlops(['exp', 'run', '-S', 'x=2'], { cwd: dir });
  assert.equal(r.code, 1);
  const runs = JSON.parse((await runMlops(['runs', 'list', '--json'], { cwd: dir })).stdout);
  assert.equal(runs[0].info.status, 'FAILED');
});
