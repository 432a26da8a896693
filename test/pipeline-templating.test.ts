import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPipeline } from '../src/pipeline/load.js';
import { tempDir, writeFiles } from './helpers.js';

function load(t: { after(fn: () => void): void }, files: Record<string, string>) {
  const dir = tempDir(t);
  writeFiles(dir, files);
  return loadPipeline(dir);
}

const byName = (p: ReturnType<typeof loadPipeline>) => Object.fromEntries(p.stages.map((s) => [s.name, s]));

test('params.yaml is loaded automatically: ${a.b}, ${a[b]}, ${lst.0}, ${lst[1]}', (t) => {
  const p = load(t, {
    'params.yaml': 'train:\n  lr: 0.01\n  name: rf\nfiles: [a.csv, b.csv]\n',
    'pipeline.yaml': 'stages:\n  s:\n    cmd: run ${train.lr} ${train[name]} ${files.0} ${files[1]}\n    deps:\n      - ${files.0}\n',
  });
  assert.deepEqual(p.stages[0]!.cmd, ['run 0.01 rf a.csv b.csv']);
  assert.deepEqual(p.stages[0]!.deps, [{ path: 'a.csv', rel: 'a.csv' }]);
});

test('a whole-string ${x} keeps its type; a mixed string stringifies booleans as true/false', (t) => {
  const p = load(t, {
    'pipeline.yaml': `vars:
  - flags: {keep: true, cache: false}
    n: 3
stages:
  s:
    cmd: run --keep=\${flags.keep} --n=\${n}
    frozen: \${flags.keep}
    meta:
      runs: \${n}
    outs:
      - out:
          cache: \${flags.cache}
          persist: \${flags.keep}
`,
  });
  const s = p.stages[0]!;
  assert.deepEqual(s.cmd, ['run --keep=true --n=3']);
  assert.equal(s.frozen, true);
  assert.deepEqual(s.meta, { runs: 3 });
  assert.equal(s.outs[0]!.cache, false);
  assert.equal(s.outs[0]!.persist, true);
});

test('\\${ escapes interpolation and leaves a literal ${', (t) => {
  const p = load(t, { 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo \\${HOME} and ${v}\nvars:\n  - v: 1\n' });
  assert.deepEqual(p.stages[0]!.cmd, ['echo ${HOME} and 1']);
});

test('a dict in cmd unpacks to flags: nested keys dotted, strings quoted, true -> flag, false omitted, lists spread', (t) => {
  const p = load(t, {
    'params.yaml': `mydict:
  foo: foo
  bar: 1
  bool: true
  off: false
  nested:
    baz: bar baz
  list: [2, 3, qux]
`,
    'pipeline.yaml': 'stages:\n  train:\n    cmd: R train.r ${mydict}\n  whole:\n    cmd: ${mydict.nested}\n',
  });
  assert.deepEqual(byName(p).train!.cmd, ["R train.r --foo foo --bar 1 --bool --nested.baz 'bar baz' --list 2 3 qux"]);
  assert.deepEqual(byName(p).whole!.cmd, ["--baz 'bar baz'"]);
});

test('vars: files, file:keys, inline dicts, merged with params.yaml; stage vars relative to wdir', (t) => {
  const p = load(t, {
    'params.yaml': 'grp:\n  a: 1\n',
    'conf/extra.yaml': 'grp:\n  b: 2\nclean: {filename: c.csv}\nfeats: {dirname: feats}\nunused: {x: 1}\n',
    'sub/local.json': '{"build": {"epochs": 7}}',
    'pipeline.yaml': `vars:
  - conf/extra.yaml:clean,feats
  - conf/extra.yaml:grp
  - params.yaml
  - model: {name: m.pkl}
stages:
  s:
    cmd: run \${grp.a} \${grp.b} \${feats.dirname}
    deps:
      - \${clean.filename}
    outs:
      - \${model.name}
  local:
    wdir: sub
    vars:
      - local.json
      - out: {file: local.bin}
    cmd: train \${build.epochs}
    outs:
      - \${out.file}
`,
  });
  const s = byName(p);
  assert.deepEqual(s.s!.cmd, ['run 1 2 feats']);
  assert.equal(s.s!.deps[0]!.path, 'c.csv');
  assert.equal(s.s!.outs[0]!.path, 'm.pkl');
  assert.deepEqual(s.local!.cmd, ['train 7']);
  assert.equal(s.local!.outs[0]!.rel, 'sub/local.bin');
});

test('stage vars do not leak into other stages', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': 'stages:\n  a:\n    vars: [{x: 1}]\n    cmd: echo ${x}\n  b:\n    cmd: echo ${x}\n',
  });
  assert.throws(() => loadPipeline(dir), /pipeline\.yaml:6: 'stages\.b\.cmd': could not find '\$\{x\}'/);
});

test('foreach over a list of scalars names stages by value: build@us', (t) => {
  const p = load(t, {
    'pipeline.yaml': `stages:
  build:
    foreach: [us, uk, 2021, true, us]
    do:
      cmd: python build.py \${item}
      outs:
        - model-\${item}.pkl
`,
  });
  // A repeated value makes one stage, as in DVC.
  assert.deepEqual(p.stages.map((s) => s.name), ['build@us', 'build@uk', 'build@2021', 'build@true']);
  assert.deepEqual(p.stages[0]!.cmd, ['python build.py us']);
  assert.equal(p.stages[3]!.outs[0]!.path, 'model-true.pkl');
  assert.equal(p.stages[1]!.line, 2);
});

test('foreach over a list with dicts or lists names stages by index: fit@0', (t) => {
  const p = load(t, {
    'pipeline.yaml': `stages:
  fit:
    foreach:
      - {lr: 0.1, batch: 32}
      - {words: [a, b]}
      - plain
    do:
      cmd: python fit.py \${item}
`,
  });
  // One composite entry is enough for every stage to be named by index.
  assert.deepEqual(p.stages.map((s) => s.name), ['fit@0', 'fit@1', 'fit@2']);
  assert.deepEqual(p.stages.map((s) => s.cmd[0]), ['python fit.py --lr 0.1 --batch 32', 'python fit.py --words a b', 'python fit.py plain']);
});

test('a flat list in a string is refused as DVC refuses it: echo ${lst}', (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': 'lst: [1, 2]\n', 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo ${lst}\n  t:\n    cmd: ${lst}\n' });
  assert.throws(() => loadPipeline(dir), /pipeline\.yaml:3: 'stages\.s\.cmd': Cannot interpolate data of type 'list'$/);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  t:\n    cmd: ${lst}\n' });
  assert.throws(() => loadPipeline(dir), /'stages\.t\.cmd': Cannot interpolate data of type 'list'/);
});

test('foreach over a dict names stages by key, with ${key} and ${item}; it may come from params.yaml', (t) => {
  const p = load(t, {
    'params.yaml': 'models:\n  uk: {epochs: 3}\n  us: {epochs: 10}\n',
    'pipeline.yaml': `stages:
  build:
    foreach: \${models}
    do:
      cmd: python train.py '\${key}' \${item.epochs}
      outs:
        - model-\${key}.hdf5
`,
  });
  assert.deepEqual(p.stages.map((s) => [s.name, s.cmd[0], s.outs[0]!.path]), [
    ['build@uk', "python train.py 'uk' 3", 'model-uk.hdf5'],
    ['build@us', "python train.py 'us' 10", 'model-us.hdf5'],
  ]);
});

test('matrix: Cartesian product, scalars by value, dicts and lists as <name><index>', (t) => {
  const p = load(t, {
    'params.yaml': 'pythons: ["3.8", "3.9"]\n',
    'pipeline.yaml': `stages:
  build:
    matrix:
      os: [linux, macos]
      pyv: \${pythons}
      dict:
        - {a: 1}
        - {a: 2}
      list:
        - [x]
        - [y]
    cmd: echo \${item.os} \${item.pyv} \${item.dict.a} \${item.list.0} \${key}
    outs:
      - out/\${item.os}-\${item.pyv}-\${item.dict.a}\${item.list[0]}
`,
  });
  const names = p.stages.map((s) => s.name);
  assert.equal(names.length, 16);
  assert.equal(names[0], 'build@linux-3.8-dict0-list0');
  assert.ok(names.includes('build@linux-3.8-dict1-list1'));
  assert.equal(names[15], 'build@macos-3.9-dict1-list1');
  const one = p.stages.find((s) => s.name === 'build@linux-3.9-dict1-list0')!;
  assert.deepEqual(one.cmd, ['echo linux 3.9 2 x linux-3.9-dict1-list0']);
  assert.equal(one.outs[0]!.path, 'out/linux-3.9-2x');
});

test('a plain stage and a foreach group can depend on each other through interpolated paths', (t) => {
  const p = load(t, {
    'pipeline.yaml': `vars:
  - regions: [eu, us]
stages:
  split:
    foreach: \${regions}
    do:
      cmd: split \${item}
      outs:
        - data/\${item}
  merge:
    cmd: merge
    deps: [data]
    outs: [merged.csv]
`,
  });
  assert.deepEqual(p.stages.map((s) => s.name), ['split@eu', 'split@us', 'merge']);
});

test('numbers read as Python prints them: small floats in exponent form', (t) => {
  const p = load(t, { 'params.yaml': 'lr: 0.00001\nalpha: 0.5\nn: 100\n', 'pipeline.yaml': 'stages:\n  s:\n    cmd: fit ${lr} ${alpha} ${n}\n' });
  assert.deepEqual(p.stages[0]!.cmd, ['fit 1e-05 0.5 100']);
});

test('YAML infinities and NaN read as Python prints them: inf, -inf, nan', (t) => {
  const p = load(t, { 'params.yaml': 'up: .inf\ndown: -.inf\nnone: .nan\n', 'pipeline.yaml': 'stages:\n  s:\n    cmd: fit ${up} ${down} ${none}\n' });
  assert.deepEqual(p.stages[0]!.cmd, ['fit inf -inf nan']);
});

test('foreach and matrix name stages by a value as Python prints it: None, 1e-05', (t) => {
  const p = load(t, { 'pipeline.yaml': 'stages:\n  f:\n    foreach: [null, 0.00001]\n    do:\n      cmd: x\n  m:\n    matrix:\n      lr: [0.00001]\n    cmd: x\n' });
  assert.deepEqual(p.stages.map((s) => s.name), ['f@None', 'f@1e-05', 'm@1e-05']);
});

test('naming a file in vars again (whole or some keys) loads only what is new, without a clash', (t) => {
  const p = load(t, {
    'params.yaml': 'a: 1\n',
    'more.yaml': 'b: 2\nc: 3\n',
    'pipeline.yaml': 'vars:\n  - params.yaml\n  - more.yaml:b\n  - more.yaml\n  - more.yaml:c\nstages:\n  s:\n    cmd: echo ${a} ${b} ${c}\n',
  });
  assert.deepEqual(p.stages[0]!.cmd, ['echo 1 2 3']);
});
