import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildGraph } from '../src/pipeline/graph.js';
import { findPipelineFile, lockFileFor, loadPipeline } from '../src/pipeline/load.js';
import { cmdText } from '../src/pipeline/model.js';
import { tempDir, writeFiles } from './helpers.js';

test('pipeline.yaml is preferred over dvc.yaml, and each has its own lock file', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'dvc.yaml': 'stages:\n  a:\n    cmd: echo dvc\n' });
  let p = loadPipeline(dir);
  assert.equal(p.file, join(dir, 'dvc.yaml'));
  assert.equal(p.lockFile, join(dir, 'dvc.lock'));
  assert.equal(p.root, dir);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  b:\n    cmd: echo ours\n' });
  p = loadPipeline(dir);
  assert.equal(p.file, join(dir, 'pipeline.yaml'));
  assert.equal(p.lockFile, join(dir, 'pipeline.lock'));
  assert.deepEqual(p.stages.map((s) => s.name), ['b']);
});

test('-f picks another file relative to the root; X.yaml locks into X.lock', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipes/other.yaml': 'stages:\n  c:\n    cmd: echo c\n' });
  assert.equal(findPipelineFile(dir, 'pipes/other.yaml'), join(dir, 'pipes', 'other.yaml'));
  const p = loadPipeline(dir, 'pipes/other.yaml');
  assert.equal(p.lockFile, join(dir, 'pipes', 'other.lock'));
  assert.equal(lockFileFor('/x/train.yml'), '/x/train.lock');
  assert.deepEqual(p.stages.map((s) => s.name), ['c']);
});

test('a missing pipeline file is a config error naming what was looked for', (t) => {
  const dir = tempDir(t);
  assert.throws(() => loadPipeline(dir), /no pipeline\.yaml or dvc\.yaml/);
  assert.throws(() => loadPipeline(dir, 'nope.yaml'), /nope\.yaml: pipeline file not found/);
});

test('plain stages: cmd string and list, deps, params, outs/metrics/plots with flags, frozen, desc, meta', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'params.yaml': 'train:\n  lr: 0.1\n  depth: 3\nseed: 1\n',
    'extra.yaml': 'a: 1\n',
    'whole.json': '{"x": 1}',
    'pipeline.yaml': `stages:
  prepare:
    desc: Split the data
    cmd: python prepare.py
    deps:
      - data/raw.csv
      - src/prepare.py
    outs:
      - data/prepared/
  train:
    cmd:
      - python train.py
      - echo done
    deps: [data/prepared]
    params:
      - train.lr
      - seed
      - extra.yaml:
          - a
      - whole.json:
      - params.yaml: []
    outs:
      - model.pkl
      - logs:
          persist: true
          cache: false
          desc: training logs
    metrics:
      - metrics.json:
          cache: false
    plots:
      - roc.csv:
          x: fpr
          y: tpr
          template: smooth
      - confusion.png
    frozen: true
    always_changed: true
    meta:
      owner: ml-team
`,
  });
  const p = loadPipeline(dir);
  const [prepare, train] = p.stages;
  assert.equal(prepare!.desc, 'Split the data');
  assert.deepEqual(prepare!.cmd, ['python prepare.py']);
  assert.deepEqual(prepare!.deps, [
    { path: 'data/raw.csv', rel: 'data/raw.csv' },
    { path: 'src/prepare.py', rel: 'src/prepare.py' },
  ]);
  assert.deepEqual(prepare!.outs, [{ path: 'data/prepared/', rel: 'data/prepared', kind: 'outs', cache: true, persist: false }]);
  assert.equal(prepare!.line, 2);
  assert.deepEqual(train!.cmd, ['python train.py', 'echo done']);
  assert.equal(cmdText(train!), 'python train.py && echo done');
  assert.deepEqual(train!.params, [
    { file: 'params.yaml', rel: 'params.yaml', keys: null },
    { file: 'extra.yaml', rel: 'extra.yaml', keys: ['a'] },
    { file: 'whole.json', rel: 'whole.json', keys: null },
  ]);
  assert.deepEqual(
    train!.outs.map((o) => [o.kind, o.path, o.cache, o.persist]),
    [
      ['outs', 'model.pkl', true, false],
      ['outs', 'logs', false, true],
      ['metrics', 'metrics.json', false, false],
      ['plots', 'roc.csv', true, false],
      ['plots', 'confusion.png', true, false],
    ],
  );
  assert.equal(train!.outs[1]!.desc, 'training logs');
  assert.deepEqual(train!.outs[3]!.plot, { x: 'fpr', y: 'tpr', template: 'smooth' });
  assert.equal(train!.frozen, true);
  assert.equal(train!.alwaysChanged, true);
  assert.deepEqual(train!.meta, { owner: 'ml-team' });
  assert.equal(prepare!.frozen, false);
  assert.equal(prepare!.alwaysChanged, false);
});

test('bare param keys stay grouped in params.yaml in the order written', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'params.yaml': 'train:\n  lr: 0.1\n  depth: 3\n',
    'pipeline.yaml': 'stages:\n  t:\n    cmd: x\n    params: [train.lr, train.depth, train.lr]\n',
  });
  assert.deepEqual(loadPipeline(dir).stages[0]!.params, [{ file: 'params.yaml', rel: 'params.yaml', keys: ['train.lr', 'train.depth'] }]);
});

test('wdir: paths and params files are relative to it; rel paths are normalised to the root', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'sub/params.yaml': 'k: 1\n',
    'shared.yaml': 'x: 1\n',
    'pipeline.yaml': `stages:
  s:
    wdir: sub
    cmd: ./run.sh
    deps: [../data/in.csv, ./code.py]
    params: [k, {../shared.yaml: [x]}]
    outs: [out/result.txt]
`,
  });
  const s = loadPipeline(dir).stages[0]!;
  assert.equal(s.wdir, 'sub');
  assert.equal(s.wdirRel, 'sub');
  assert.deepEqual(s.deps, [
    { path: '../data/in.csv', rel: 'data/in.csv' },
    { path: './code.py', rel: 'sub/code.py' },
  ]);
  assert.deepEqual(s.params, [
    { file: 'params.yaml', rel: 'sub/params.yaml', keys: ['k'] },
    { file: '../shared.yaml', rel: 'shared.yaml', keys: ['x'] },
  ]);
  assert.equal(s.outs[0]!.rel, 'sub/out/result.txt');
});

test('top-level params, metrics and plots', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': `params:
  - config/extra.yaml
metrics:
  - ./eval/metrics.json
plots:
  - eval/importance.png
  - roc:
      template: simple
      x: fpr
      y:
        eval/plots/roc.json: tpr
  - precision_recall:
`,
  });
  const p = loadPipeline(dir);
  assert.deepEqual(p.stages, []);
  assert.deepEqual(p.params, ['config/extra.yaml']);
  assert.deepEqual(p.metrics, ['eval/metrics.json']);
  assert.deepEqual(p.plots, [
    { id: 'eval/importance.png', props: {} },
    { id: 'roc', props: { template: 'simple', x: 'fpr', y: { 'eval/plots/roc.json': 'tpr' } } },
    { id: 'precision_recall', props: {} },
  ]);
});

test('an empty pipeline file has no stages', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipeline.yaml': '# nothing yet\n' });
  assert.deepEqual(loadPipeline(dir).stages, []);
});

test('a symlink that stays inside the project is a fine output location', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'real/keep': '', 'pipeline.yaml': 'stages:\n  s:\n    cmd: x\n    outs: [linked/out.txt]\n' });
  symlinkSync(join(dir, 'real'), join(dir, 'linked'));
  assert.equal(loadPipeline(dir).stages[0]!.outs[0]!.rel, 'linked/out.txt');
});

test('a params file produced by an earlier stage need not exist yet, and links the stages', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': `stages:
  tune:
    cmd: python tune.py
    outs: [tuned/best.yaml]
  train:
    cmd: python train.py
    params:
      - tuned/best.yaml:
          - lr
`,
  });
  const pipeline = loadPipeline(dir);
  assert.deepEqual(pipeline.stages[1]!.params, [{ file: 'tuned/best.yaml', rel: 'tuned/best.yaml', keys: ['lr'] }]);
  // ... and the params file links the stages, as any dependency does.
  assert.deepEqual(buildGraph([pipeline]).edges, [['tune', 'train']]);
});

test('YAML anchors and merge keys (<<: *defaults) work as in DVC files', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': `stages:
  train_small: &train
    cmd: python train.py small
    deps: [train.py, data/small.csv]
    outs: [small.pkl]
  train_large:
    <<: *train
    cmd: python train.py large
    outs: [large.pkl]
`,
  });
  const [, large] = loadPipeline(dir).stages;
  assert.deepEqual(large!.cmd, ['python train.py large']);
  assert.deepEqual(large!.deps.map((d) => d.path), ['train.py', 'data/small.csv']);
  assert.deepEqual(large!.outs.map((o) => o.path), ['large.pkl']);
});
