import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runMlops, tempDir, writeFiles } from './helpers.js';

const FILES = {
  'params.yaml': 'train:\n  lr: 0.1\n  depth: 4\n',
  'src/params.yaml': 'train:\n  lr: 0.2\n',
  'other.yaml': 'x: 1\n',
  'pipeline.yaml': `stages:
  prepare:
    cmd: python prepare.py data/raw.csv
    deps:
      - data/raw.csv
    outs:
      - data/prepared
  train:
    wdir: src
    cmd:
      - python train.py --lr \${train.lr}
      - echo trained
    deps:
      - ../data/prepared
    params:
      - train.lr
      - ../other.yaml:
    outs:
      - ../model.pkl:
          cache: true
    metrics:
      - ../metrics.json:
          cache: false
    plots:
      - ../roc.csv:
          x: fpr
          y: tpr
`,
};

function project(t: { after(fn: () => void): void }, files: Record<string, string> = FILES): string {
  const dir = tempDir(t);
  writeFiles(dir, files);
  return dir;
}

test('stages --json prints exactly the issue\'s shape, paths as written', async (t) => {
  const r = await runMlops(['stages', '--json'], { cwd: project(t) });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    stages: {
      prepare: { cmd: 'python prepare.py data/raw.csv', deps: ['data/raw.csv'], outs: ['data/prepared'], metrics: [], plots: [], params: [], wdir: '.' },
      train: {
        cmd: 'python train.py --lr 0.1 && echo trained',
        deps: ['../data/prepared'],
        outs: ['../model.pkl'],
        metrics: ['../metrics.json'],
        plots: ['../roc.csv'],
        params: ['params.yaml:train.lr', '../other.yaml'],
        wdir: 'src',
      },
    },
  });
  assert.deepEqual(Object.keys(JSON.parse(r.stdout).stages.train), ['cmd', 'deps', 'outs', 'metrics', 'plots', 'params', 'wdir']);
});

test('templating reads the root params.yaml, whatever the stage wdir', async (t) => {
  const dir = project(t, { ...FILES, 'params.yaml': 'unrelated: 1\n' });
  const r = await runMlops(['stages', '--json'], { cwd: dir });
  // Bare param keys are looked up in src/params.yaml (which has train.lr), but ${train.lr} reads the
  // params.yaml beside the pipeline file, which lacks it.
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: pipeline\.yaml:11: 'stages\.train\.cmd\.0': could not find '\$\{train\.lr\}'/);
});

test('stages without --json: a plain listing', async (t) => {
  const r = await runMlops(['stages'], { cwd: project(t) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      'prepare',
      '  cmd: python prepare.py data/raw.csv',
      '  deps: data/raw.csv',
      '  outs: data/prepared',
      'train',
      '  cmd: python train.py --lr 0.1 && echo trained',
      '  wdir: src',
      '  deps: ../data/prepared',
      '  params: params.yaml:train.lr, ../other.yaml',
      '  outs: ../model.pkl',
      '  metrics: ../metrics.json',
      '  plots: ../roc.csv',
      '',
    ].join('\n'),
  );
});

test('--file FILE reads another pipeline file; dvc.yaml is the fallback', async (t) => {
  const dir = project(t, { 'dvc.yaml': 'stages:\n  d:\n    cmd: echo d\n', 'alt/p.yaml': 'stages:\n  e:\n    cmd: echo e\n' });
  const fallback = await runMlops(['stages', '--json'], { cwd: dir });
  assert.deepEqual(Object.keys(JSON.parse(fallback.stdout).stages), ['d']);
  const other = await runMlops(['stages', '--json', '--file', 'alt/p.yaml'], { cwd: dir });
  assert.deepEqual(Object.keys(JSON.parse(other.stdout).stages), ['e']);
  const missing = await runMlops(['stages', '--file', 'nope.yaml'], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, 'error: nope.yaml: pipeline file not found\n');
});

test('a pipeline.yaml created beside dvc.yaml takes over at once, even after a no-op run', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'dvc.yaml': 'stages:\n  d:\n    cmd: echo d > d.txt\n    outs: [d.txt]\n' });
  await runMlops(['repro'], { cwd: dir });
  assert.match((await runMlops(['repro'], { cwd: dir })).stdout, /d: up to date/);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  p:\n    cmd: echo p > p.txt\n    outs: [p.txt]\n' });
  const r = await runMlops(['repro'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /p: running/);
  assert.doesNotMatch(r.stdout, /d: /);
});

test('no pipeline file at all: exit 2', async (t) => {
  const r = await runMlops(['stages'], { cwd: project(t, {}) });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: .*no pipeline\.yaml or dvc\.yaml here/);
});

test('dag: plain, --json, --mermaid, --dot, and a target with its upstream', async (t) => {
  const dir = project(t, {
    ...FILES,
    'pipeline.yaml': `${FILES['pipeline.yaml']}  evaluate:
    cmd: python evaluate.py
    deps: [model.pkl]
    outs: [eval]
  lonely:
    cmd: echo alone
`,
  });
  const plain = await runMlops(['dag'], { cwd: dir });
  assert.equal(plain.stdout, 'prepare\ntrain <- prepare\nevaluate <- train\nlonely\n');
  const json = await runMlops(['dag', '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(json.stdout), {
    stages: ['prepare', 'train', 'evaluate', 'lonely'],
    edges: [
      { from: 'prepare', to: 'train' },
      { from: 'train', to: 'evaluate' },
    ],
  });
  const mermaid = await runMlops(['dag', '--mermaid', 'train'], { cwd: dir });
  assert.equal(mermaid.stdout, 'flowchart TD\n\tnode1["prepare"]\n\tnode2["train"]\n\tnode1-->node2\n');
  const dot = await runMlops(['dag', '--dot', 'evaluate'], { cwd: dir });
  assert.equal(dot.stdout, 'strict digraph  {\n"prepare";\n"train";\n"evaluate";\n"prepare" -> "train";\n"train" -> "evaluate";\n}\n');
});

test('dag: an unknown target and clashing formats are errors with exit 2', async (t) => {
  const dir = project(t);
  const unknown = await runMlops(['dag', 'trian'], { cwd: dir });
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "error: pipeline.yaml: 'trian': no stage named 'trian' (did you mean 'train'?)\n");
  const both = await runMlops(['dag', '--dot', '--mermaid'], { cwd: dir });
  assert.equal(both.code, 2);
  assert.match(both.stderr, /choose one of --mermaid, --dot and --json/);
});
