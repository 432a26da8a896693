import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../src/core/errors.js';
import { buildGraph } from '../src/pipeline/graph.js';
import { loadPipeline } from '../src/pipeline/load.js';
import { tempDir, writeFiles } from './helpers.js';

// Written in an order that is not the run order: evaluate needs train needs featurize needs prepare;
// report is independent; the per-region stages hang off prepare.
const PIPELINE = `vars:
  - regions: [eu, us]
stages:
  evaluate:
    cmd: python evaluate.py
    deps: [model/model.pkl, data/features/test.csv]
    metrics:
      - eval/metrics.json
  report:
    cmd: python report.py
    outs: [report.html]
  train:
    cmd: python train.py
    deps: [data/features]
    outs: [model]
  featurize:
    cmd: python featurize.py
    deps: [data/prepared/all.csv]
    outs: [data/features]
  prepare:
    cmd: python prepare.py
    deps: [data/raw.csv]
    outs: [data/prepared]
  split:
    foreach: \${regions}
    do:
      cmd: python split.py \${item}
      deps: [data/prepared]
      outs:
        - data/regions/\${item}.csv
`;

function graph(t: { after(fn: () => void): void }) {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipeline.yaml': PIPELINE });
  return buildGraph([loadPipeline(dir)]);
}
const names = (stages: readonly { name: string }[]) => stages.map((s) => s.name);

test('edges: a dep equal to, inside, or containing an output links the stages', (t) => {
  const g = graph(t);
  assert.deepEqual(g.edges, [
    ['train', 'evaluate'], // model/model.pkl lies inside the output dir model
    ['featurize', 'evaluate'], // data/features/test.csv inside data/features
    ['featurize', 'train'], // equal
    ['prepare', 'featurize'], // data/prepared/all.csv inside data/prepared
    ['prepare', 'split@eu'],
    ['prepare', 'split@us'],
  ]);
});

test('topological order is DFS post-order with ties in file order', (t) => {
  assert.deepEqual(names(graph(t).order), ['prepare', 'featurize', 'train', 'evaluate', 'report', 'split@eu', 'split@us']);
});

test('upstream and downstream, direct and transitive, in run order', (t) => {
  const g = graph(t);
  assert.deepEqual(names(g.upstream('evaluate')), ['featurize', 'train']);
  assert.deepEqual(names(g.upstream('evaluate', true)), ['prepare', 'featurize', 'train']);
  assert.deepEqual(names(g.downstream('prepare')), ['featurize', 'split@eu', 'split@us']);
  assert.deepEqual(names(g.downstream('featurize', true)), ['train', 'evaluate']);
  assert.deepEqual(names(g.upstream('report')), []);
});

test('select: targets with their upstream, --downstream, --single-item, none = all', (t) => {
  const g = graph(t);
  assert.deepEqual(names(g.select([])), names(g.order));
  assert.deepEqual(names(g.select(['train'])), ['prepare', 'featurize', 'train']);
  assert.deepEqual(names(g.select(['train'], { singleItem: true })), ['train']);
  assert.deepEqual(names(g.select(['featurize'], { downstream: true })), ['featurize', 'train', 'evaluate']);
  assert.deepEqual(names(g.select(['evaluate', 'report'], { singleItem: true })), ['evaluate', 'report']);
});

test('select: a foreach group name selects every generated stage; file:name and the file itself work', (t) => {
  const g = graph(t);
  assert.deepEqual(names(g.select(['split'], { singleItem: true })), ['split@eu', 'split@us']);
  assert.deepEqual(names(g.select(['split@us'])), ['prepare', 'split@us']);
  assert.deepEqual(names(g.select([`${g.pipelines[0]!.file}:train`], { singleItem: true })), ['train']);
  assert.deepEqual(names(g.select(['pipeline.yaml:report'], { singleItem: true })), ['report']);
  assert.deepEqual(names(g.select(['pipeline.yaml'], { singleItem: true })), names(g.order));
});

test('select: an unknown target is a ConfigError with a did-you-mean', (t) => {
  const g = graph(t);
  assert.throws(() => g.select(['trian']), (e: unknown) => e instanceof ConfigError && /no stage named 'trian' \(did you mean 'train'\?\)/.test(e.message));
  assert.throws(() => g.select(['splitt']), /did you mean 'split'\?/);
  assert.throws(() => g.select(['other.yaml:train']), /no pipeline file 'other\.yaml' in the project/);
});

test('a longer cycle is reported with every stage on it', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': `stages:
  start:
    cmd: a
    outs: [s]
  x:
    cmd: a
    deps: [s, z]
    outs: [x]
  y:
    cmd: a
    deps: [x]
    outs: [y]
  z:
    cmd: a
    deps: [y]
    outs: [z]
`,
  });
  assert.throws(() => loadPipeline(dir), /pipeline\.yaml:5: 'stages\.x': dependency cycle: x -> y -> z -> x/);
});
