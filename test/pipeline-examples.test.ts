// Pipeline files written the way public DVC projects write them (the get-started layout with
// top-level metrics/plots, templated foreach/matrix projects, older metric/plot flags): they must
// load unchanged, with DVC's exact stage names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildGraph } from '../src/pipeline/graph.js';
import { loadPipeline } from '../src/pipeline/load.js';
import { runMlops, tempDir, writeFiles } from './helpers.js';

const GET_STARTED = {
  'params.yaml': `prepare:
  split: 0.25
  seed: 7
featurize:
  max_features: 300
  ngrams: 2
train:
  seed: 7
  n_est: 80
  min_split: 0.02
`,
  'dvc.yaml': `stages:
  prepare:
    cmd: python src/prepare.py data/reviews.xml
    deps:
    - data/reviews.xml
    - src/prepare.py
    params:
    - prepare.seed
    - prepare.split
    outs:
    - data/prepared
  featurize:
    cmd: python src/featurization.py data/prepared data/features
    deps:
    - data/prepared
    - src/featurization.py
    params:
    - featurize.max_features
    - featurize.ngrams
    outs:
    - data/features
  train:
    cmd: python src/train.py data/features model.pkl
    deps:
    - data/features
    - src/train.py
    params:
    - train.seed
    - train.n_est
    - train.min_split
    outs:
    - model.pkl
  evaluate:
    cmd: python src/evaluate.py model.pkl data/features
    deps:
    - data/features
    - model.pkl
    - src/evaluate.py
    outs:
    - eval
metrics:
- eval/metrics.json
plots:
- ROC:
    template: simple
    x: fpr
    y:
      eval/plots/sklearn/roc/train.json: tpr
      eval/plots/sklearn/roc/test.json: tpr
- Confusion-Matrix:
    template: confusion
    x: actual
    y:
      eval/plots/sklearn/cm/train.json: predicted
      eval/plots/sklearn/cm/test.json: predicted
- Precision-Recall:
    template: simple
    x: recall
    y:
      eval/plots/sklearn/prc/train.json: precision
      eval/plots/sklearn/prc/test.json: precision
- eval/plots/images/importance.png
artifacts:
  review-classifier:
    path: model.pkl
    type: model
    desc: Classifies reviews
`,
};

const TEMPLATED = {
  'params.yaml': `datasets:
  small: {rows: 1000, path: data/small.csv}
  large: {rows: 100000, path: data/large.csv}
seeds: [1, 2, 3]
train:
  epochs: 10
  optimizer: {name: adam, lr: 0.001, amsgrad: true}
`,
  'config/eval.json': '{"eval": {"threshold": 0.5, "splits": ["val", "test"]}}',
  'dvc.yaml': `vars:
  - config/eval.json
  - out_dir: results

stages:
  cleanups:
    foreach:
      - raw1
      - labels1
      - raw2
    do:
      cmd: clean.py "\${item}"
      outs:
        - \${item}.cln

  prepare:
    foreach: \${datasets}
    do:
      desc: Prepare the \${key} dataset
      cmd: python prepare.py --rows \${item.rows} \${item.path} prepared/\${key}.parquet
      deps:
        - \${item.path}
      outs:
        - prepared/\${key}.parquet

  train:
    foreach:
      - epochs: 3
        thresh: 10
      - epochs: 10
        thresh: 15
    do:
      cmd: >-
        python train.py
        --epochs \${item.epochs}
        --thresh \${item.thresh}
        \${train.optimizer}
      deps:
        - prepared
      params:
        - train.epochs
      outs:
        - models/model-\${item.epochs}.pkl

  seeded:
    matrix:
      seed: \${seeds}
      data: [small, large]
    cmd: python fit.py --seed \${item.seed} prepared/\${item.data}.parquet
    deps:
      - prepared/\${item.data}.parquet
    outs:
      - \${out_dir}/fit-\${item.data}-\${item.seed}.json

  evaluate:
    matrix:
      split: \${eval.splits}
      setup:
        - {model: rf, depth: 4}
        - {model: gb, depth: 2}
    cmd: python evaluate.py \${item.split} \${item.setup.model} --threshold \${eval.threshold}
    deps:
      - models
    metrics:
      - \${out_dir}/\${item.split}-\${item.setup.model}.json:
          cache: false
`,
};

const OLDER_STYLE = {
  'params.yaml': 'max_depth: 5\nn_estimators: 50\n',
  'dvc.yaml': `stages:
  get_data:
    cmd: wget -q -O data/raw.csv https://example.com/raw.csv
    always_changed: true
    outs:
      - data/raw.csv:
          persist: true
  featurize:
    desc: Build features
    cmd:
      - mkdir -p features
      - python featurize.py
    deps:
      - data/raw.csv
      - featurize.py
    outs:
      - features
    meta:
      owner: data-team
  train:
    cmd: python train.py
    deps:
      - features
    params:
      - max_depth
      - n_estimators
    outs:
      - model.pkl:
          desc: the model
          remote: storage
          push: false
    metrics:
      - scores.json:
          cache: false
    plots:
      - prc.json:
          cache: false
          x: recall
          y: precision
      - roc.json:
          cache: false
          x: fpr
          y: tpr
          title: ROC
          header: true
  publish:
    frozen: true
    cmd: ./publish.sh
    deps:
      - model.pkl
`,
};

function load(t: { after(fn: () => void): void }, files: Record<string, string>) {
  const dir = tempDir(t);
  writeFiles(dir, files);
  return { dir, pipeline: loadPipeline(dir) };
}

test('get-started layout: four stages in order, top-level metrics and plots, artifacts accepted', (t) => {
  const { pipeline } = load(t, GET_STARTED);
  assert.deepEqual(pipeline.stages.map((s) => s.name), ['prepare', 'featurize', 'train', 'evaluate']);
  assert.deepEqual(buildGraph([pipeline]).edges, [
    ['prepare', 'featurize'],
    ['featurize', 'train'],
    ['featurize', 'evaluate'],
    ['train', 'evaluate'],
  ]);
  assert.deepEqual(pipeline.metrics, ['eval/metrics.json']);
  assert.deepEqual(pipeline.plots.map((p) => p.id), ['ROC', 'Confusion-Matrix', 'Precision-Recall', 'eval/plots/images/importance.png']);
  assert.deepEqual(pipeline.plots[1]!.props.y, { 'eval/plots/sklearn/cm/train.json': 'predicted', 'eval/plots/sklearn/cm/test.json': 'predicted' });
});

test('templated project: DVC\'s exact foreach and matrix stage names, values substituted', (t) => {
  const { pipeline } = load(t, TEMPLATED);
  assert.deepEqual(pipeline.stages.map((s) => s.name), [
    'cleanups@raw1',
    'cleanups@labels1',
    'cleanups@raw2',
    'prepare@small',
    'prepare@large',
    'train@0',
    'train@1',
    'seeded@1-small',
    'seeded@1-large',
    'seeded@2-small',
    'seeded@2-large',
    'seeded@3-small',
    'seeded@3-large',
    'evaluate@val-setup0',
    'evaluate@val-setup1',
    'evaluate@test-setup0',
    'evaluate@test-setup1',
  ]);
  const s = Object.fromEntries(pipeline.stages.map((x) => [x.name, x]));
  assert.deepEqual(s['cleanups@labels1']!.cmd, ['clean.py "labels1"']);
  assert.equal(s['prepare@large']!.desc, 'Prepare the large dataset');
  assert.deepEqual(s['prepare@large']!.cmd, ['python prepare.py --rows 100000 data/large.csv prepared/large.parquet']);
  assert.deepEqual(s['train@1']!.cmd, ['python train.py --epochs 10 --thresh 15 --name adam --lr 0.001 --amsgrad']);
  assert.equal(s['seeded@2-large']!.outs[0]!.path, 'results/fit-large-2.json');
  assert.deepEqual(s['evaluate@test-setup1']!.cmd, ['python evaluate.py test gb --threshold 0.5']);
  assert.equal(s['evaluate@test-setup1']!.outs[0]!.cache, false);
  // The foreach outputs feed the matrix stages through the prepared/ directory.
  assert.deepEqual(buildGraph([pipeline]).upstream('seeded@1-small').map((x) => x.name), ['prepare@small']);
});

test('older style: list cmd, persist, always_changed, frozen, plot flags, desc and meta', (t) => {
  const { pipeline } = load(t, OLDER_STYLE);
  assert.deepEqual(pipeline.stages.map((s) => s.name), ['get_data', 'featurize', 'train', 'publish']);
  const [getData, featurize, train, publish] = pipeline.stages;
  assert.equal(getData!.alwaysChanged, true);
  assert.equal(getData!.outs[0]!.persist, true);
  assert.deepEqual(featurize!.cmd, ['mkdir -p features', 'python featurize.py']);
  assert.deepEqual(featurize!.meta, { owner: 'data-team' });
  assert.deepEqual(train!.outs.map((o) => [o.kind, o.path, o.cache]), [
    ['outs', 'model.pkl', true],
    ['metrics', 'scores.json', false],
    ['plots', 'prc.json', false],
    ['plots', 'roc.json', false],
  ]);
  assert.deepEqual(train!.outs[3]!.plot, { x: 'fpr', y: 'tpr', title: 'ROC', header: true });
  assert.equal(publish!.frozen, true);
});

test('each example works through mlops stages --json', async (t) => {
  for (const files of [GET_STARTED, TEMPLATED, OLDER_STYLE]) {
    const dir = tempDir(t);
    writeFiles(dir, files);
    const r = await runMlops(['stages', '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Object.keys(JSON.parse(r.stdout).stages).length, loadPipeline(dir).stages.length);
  }
});
