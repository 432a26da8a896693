// Every config error in the pipeline file: through loadPipeline (the located ConfigError) and through
// the real CLI (exit 2, one line `error: file:line: 'key': detail`, nothing on stdout).
import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../src/core/errors.js';
import { loadPipeline } from '../src/pipeline/load.js';
import { runMlops, tempDir, writeFiles } from './helpers.js';

interface Case {
  name: string;
  files: Record<string, string>;
  /** Extra setup in the project folder (symlinks). */
  setup?: (dir: string) => void;
  file?: string;
  line?: number;
  key?: string;
  message: RegExp;
}

const stage = (body: string) => `stages:\n  train:\n${body}`;

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A stage whose one output `out` would overwrite `hit`, a path the tool must keep (line 5: the output's). */
const overwrite = (name: string, out: string, hit: string, key?: string): Case => ({
  name,
  files: { 'pipeline.yaml': stage(`    cmd: x\n    outs:\n      - ${out}\n`) },
  line: 5,
  ...(key === undefined ? {} : { key }),
  message: new RegExp(`output '${literal(out)}' would overwrite '${literal(hit)}'`),
});

const cases: Case[] = [
  {
    name: 'YAML syntax error',
    files: { 'pipeline.yaml': 'stages:\n  train:\n    cmd: [unclosed\n    deps: x\n' },
    line: 4,
    message: /invalid YAML/,
  },
  {
    name: 'duplicate stage name',
    files: { 'pipeline.yaml': 'stages:\n  a:\n    cmd: x\n  a:\n    cmd: y\n' },
    line: 4,
    message: /invalid YAML: Map keys must be unique/,
  },
  {
    name: 'YAML alias bomb',
    files: {
      'pipeline.yaml': [
        'a: &a ["x","x","x","x","x","x","x","x","x"]',
        ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`),
        'stages: {}',
      ].join('\n'),
    },
    message: /invalid YAML: .*alias/i,
  },
  {
    name: 'unknown top-level key, with did-you-mean',
    files: { 'pipeline.yaml': 'stage:\n  train:\n    cmd: x\n' },
    line: 1,
    key: 'stage',
    message: /unknown top-level key 'stage' \(did you mean 'stages'\?\)/,
  },
  {
    name: 'unknown stage key, with did-you-mean',
    files: { 'pipeline.yaml': stage('    cmd: x\n    dep:\n      - a\n') },
    line: 4,
    key: 'stages.train.dep',
    message: /unknown stage key 'dep' \(did you mean 'deps'\?\)/,
  },
  {
    name: 'unknown output flag, with did-you-mean',
    files: { 'pipeline.yaml': stage('    cmd: x\n    outs:\n      - model.pkl:\n          cahce: false\n') },
    line: 6,
    key: 'stages.train.outs.0.model.pkl.cahce',
    message: /unknown output key 'cahce' \(did you mean 'cache'\?\)/,
  },
  {
    name: 'unknown key inside foreach do',
    files: { 'pipeline.yaml': 'stages:\n  b:\n    foreach: [a]\n    do:\n      cmd: x\n      outz: [y]\n' },
    line: 6,
    key: 'stages.b.do.outz',
    message: /did you mean 'outs'/,
  },
  {
    name: 'missing cmd',
    files: { 'pipeline.yaml': stage('    deps:\n      - a\n') },
    line: 2,
    key: 'stages.train',
    message: /stage 'train' has no 'cmd'/,
  },
  {
    name: 'wrong type: deps is a string',
    files: { 'pipeline.yaml': stage('    cmd: x\n    deps: data.csv\n') },
    line: 4,
    key: 'stages.train.deps',
    message: /expected a list, got a string/,
  },
  {
    name: 'wrong type: cmd is a number',
    files: { 'pipeline.yaml': stage('    cmd: 5\n') },
    line: 3,
    key: 'stages.train.cmd',
    message: /expected a command string or a list of commands, got a number/,
  },
  {
    name: 'wrong type: frozen is not a boolean',
    files: { 'pipeline.yaml': stage('    cmd: x\n    frozen: yes\n') },
    line: 4,
    key: 'stages.train.frozen',
    message: /expected true or false, got a string/,
  },
  {
    name: 'wrong type: cache flag is a string',
    files: { 'pipeline.yaml': stage('    cmd: x\n    metrics:\n      - m.json:\n          cache: "no"\n') },
    line: 6,
    key: 'stages.train.metrics.0.m.json.cache',
    message: /expected true or false, got a string/,
  },
  {
    name: 'an empty command in a list',
    files: { 'pipeline.yaml': stage('    cmd:\n      - echo a\n      - ""\n') },
    line: 3,
    key: 'stages.train.cmd',
    message: /empty command/,
  },
  {
    name: 'an output entry with two paths in one mapping',
    files: { 'pipeline.yaml': stage('    cmd: x\n    outs:\n      - a: {cache: true}\n        b: {}\n') },
    line: 5,
    key: 'stages.train.outs.0',
    message: /expected one path with its flags, got 2 keys/,
  },
  {
    name: 'wrong type: stage is not a mapping',
    files: { 'pipeline.yaml': 'stages:\n  train: python train.py\n' },
    line: 2,
    key: 'stages.train',
    message: /expected a stage definition/,
  },
  {
    name: 'unresolvable ${}',
    files: { 'params.yaml': 'train:\n  lr: 1\n', 'pipeline.yaml': stage('    cmd: python train.py --lr ${train.lrr}\n') },
    line: 3,
    key: 'stages.train.cmd',
    message: /could not find '\$\{train\.lrr\}' \('train' has no 'lrr'\) \(did you mean 'lr'\?\)/,
  },
  {
    name: 'unresolvable ${} inside a foreach stage names the generated stage',
    files: { 'pipeline.yaml': 'stages:\n  b:\n    foreach: [us]\n    do:\n      cmd: x\n      deps:\n        - ${item}/${nope}\n' },
    line: 7,
    key: 'stages.b.do.deps.0',
    message: /could not find '\$\{nope\}' \(in stage 'b@us'\)/,
  },
  {
    name: 'a dependency cycle names the stages in it',
    files: {
      'pipeline.yaml': 'stages:\n  a:\n    cmd: x\n    deps: [b.out]\n    outs: [a.out]\n  b:\n    cmd: y\n    deps: [a.out]\n    outs: [b.out]\n',
    },
    line: 2,
    key: 'stages.a',
    message: /dependency cycle: a -> b -> a/,
  },
  {
    name: 'two stages declaring the same output',
    files: { 'pipeline.yaml': 'stages:\n  a:\n    cmd: x\n    outs: [model.pkl]\n  b:\n    cmd: y\n    outs:\n      - ./model.pkl\n' },
    line: 8,
    key: 'stages.b.outs.0',
    message: /output 'model\.pkl' is declared by both 'a' and 'b'/,
  },
  {
    name: 'an output inside another stage\'s output directory',
    files: { 'pipeline.yaml': 'stages:\n  a:\n    cmd: x\n    outs: [data]\n  b:\n    cmd: y\n    metrics:\n      - data/metrics.json\n' },
    line: 8,
    key: 'stages.b.metrics.0',
    message: /output 'data\/metrics\.json' of 'b' lies inside output 'data' of 'a'/,
  },
  {
    name: 'a path both dependency and output of one stage',
    files: { 'pipeline.yaml': stage('    cmd: x\n    deps: [data.csv]\n    outs: [data.csv]\n') },
    line: 5,
    message: /'data\.csv' is both an output and a dependency of stage 'train'/,
  },
  {
    name: 'an absolute output path',
    files: { 'pipeline.yaml': stage('    cmd: x\n    outs:\n      - /tmp/model.pkl\n') },
    line: 5,
    key: 'stages.train.outs.0',
    message: /output '\/tmp\/model\.pkl' is outside the project/,
  },
  {
    name: 'an output escaping with ..',
    files: { 'pipeline.yaml': stage('    cmd: x\n    wdir: sub\n    outs:\n      - ../../model.pkl\n') },
    line: 6,
    key: 'stages.train.outs.0',
    message: /output '\.\.\/\.\.\/model\.pkl' is outside the project/,
  },
  {
    name: 'an output through a symlink that leaves the project',
    files: { 'pipeline.yaml': stage('    cmd: x\n    outs:\n      - escape/model.pkl\n') },
    setup: (dir) => symlinkSync('/tmp', join(dir, 'escape')),
    line: 5,
    key: 'stages.train.outs.0',
    message: /output 'escape\/model\.pkl' leads outside the project through the symlink 'escape'/,
  },
  overwrite('an output that would delete the whole project (and the pipeline file)', '.', 'pipeline.yaml', 'stages.train.outs.0'),
  overwrite('an output over the lock file', 'pipeline.lock', 'pipeline.lock'),
  overwrite("an output inside the tool's own folder", '.mlops/cache', '.mlops'),
  overwrite('the tracking folder as an output (repro would delete every run; issue 9.10)', 'mlruns', 'mlruns'),
  overwrite("an output inside DVC's folder", '.dvc/config', '.dvc'),
  overwrite('the params file as an output (issue 9.10)', 'params.yaml', 'params.yaml'),
  {
    name: 'a folder holding a stage\'s params file as an output',
    files: { 'pipeline.yaml': stage('    cmd: x\n    params:\n      - conf/p.yaml:\n          - lr\n    outs:\n      - conf\n'), 'conf/p.yaml': 'lr: 1\n' },
    line: 8,
    message: /output 'conf' would overwrite 'conf\/p\.yaml'/,
  },
  overwrite('the other pipeline file as an output', 'dvc.lock', 'dvc.lock'),
  {
    name: 'a matrix of 8.1 million stages is refused before it is expanded (issue 9.15)',
    files: { 'pipeline.yaml': 'stages:\n  m:\n    matrix:\n' + ['a', 'b', 'c', 'd', 'e'].map((k) => `      ${k}: [${Array.from({ length: 24 }, (_, i) => i).join(', ')}]\n`).join('') + '    cmd: echo ${item.a}\n' },
    line: 3,
    key: 'stages.m.matrix',
    message: /matrix expands to 7,962,624 stages; at most 10,000 are allowed/,
  },
  {
    name: 'a foreach over more items than the stage limit',
    files: { 'pipeline.yaml': `stages:\n  f:\n    foreach: [${Array.from({ length: 10_001 }, (_, i) => i).join(', ')}]\n    do:\n      cmd: echo \${item}\n` },
    line: 3,
    key: 'stages.f.foreach',
    message: /foreach expands to 10,001 stages; at most 10,000 are allowed/,
  },
  {
    name: 'several expansions that together pass the stage limit',
    files: { 'pipeline.yaml': `stages:\n${['a', 'b', 'c'].map((n) => `  ${n}:\n    foreach: [${Array.from({ length: 4000 }, (_, i) => i).join(', ')}]\n    do:\n      cmd: echo \${item}\n`).join('')}` },
    line: 1,
    key: 'stages',
    message: /the pipeline defines 12,000 stages; at most 10,000 are allowed/,
  },
  {
    name: 'a wdir outside the project',
    files: { 'pipeline.yaml': stage('    cmd: x\n    wdir: ../elsewhere\n') },
    line: 4,
    key: 'stages.train.wdir',
    message: /wdir '\.\.\/elsewhere' is outside the project/,
  },
  {
    name: 'foreach over a scalar',
    files: { 'params.yaml': 'region: us\n', 'pipeline.yaml': 'stages:\n  b:\n    foreach: ${region}\n    do:\n      cmd: x\n' },
    line: 3,
    key: 'stages.b.foreach',
    message: /foreach expects a list or a mapping, got a string/,
  },
  {
    name: 'matrix over a scalar',
    files: { 'pipeline.yaml': 'stages:\n  b:\n    matrix:\n      os: linux\n    cmd: x\n' },
    line: 4,
    key: 'stages.b.matrix.os',
    message: /matrix 'os' expects a list, got a string/,
  },
  {
    name: 'a dict interpolated outside cmd',
    files: { 'params.yaml': 'train:\n  lr: 1\n', 'pipeline.yaml': stage('    cmd: x\n    outs:\n      - ${train}\n') },
    line: 5,
    key: 'stages.train.outs.0',
    message: /Cannot interpolate data of type 'dict'/,
  },
  {
    name: 'a list interpolated into a path',
    files: { 'params.yaml': 'files: [a, b]\n', 'pipeline.yaml': stage('    cmd: x\n    deps:\n      - data/${files}\n') },
    line: 5,
    key: 'stages.train.deps.0',
    message: /Cannot interpolate data of type 'list'/,
  },
  {
    name: 'a dict whose list holds a mapping, interpolated into cmd',
    files: { 'params.yaml': 'x: {a: [1, {b: 2}]}\n', 'pipeline.yaml': stage('    cmd: echo ${x}\n') },
    line: 3,
    key: 'stages.train.cmd',
    message: /Cannot interpolate nested iterable in 'a'/,
  },
  {
    name: 'a params file in a format the engine cannot read',
    files: { 'p.toml': '[train]\nlr = 1\n', 'pipeline.yaml': stage('    cmd: x\n    params:\n      - p.toml:\n') },
    line: 5,
    key: 'stages.train.params.0.p.toml',
    message: /unsupported params file 'p\.toml' \(use YAML or JSON\)/,
  },
  {
    name: 'a YAML error in a params file tracked whole',
    files: { 'other.yaml': 'x: [1\n', 'pipeline.yaml': stage('    cmd: x\n    params:\n      - other.yaml:\n') },
    file: 'other.yaml',
    line: 2,
    message: /invalid YAML/,
  },
  {
    name: 'redefining a var from another file',
    files: { 'params.yaml': 'a:\n  b: 1\n', 'x.yaml': 'a:\n  b: 2\n', 'pipeline.yaml': 'vars:\n  - x.yaml\nstages: {}\n' },
    line: 2,
    key: 'vars.0',
    message: /cannot redefine 'a\.b' from 'x\.yaml' as it already exists in 'params\.yaml'/,
  },
  {
    name: 'redefining a var inline',
    files: { 'params.yaml': 'lr: 1\n', 'pipeline.yaml': 'vars:\n  - lr: 2\nstages: {}\n' },
    line: 2,
    key: 'vars.0',
    message: /cannot redefine 'lr' from 'vars\[0\]' as it already exists in 'params\.yaml'/,
  },
  {
    name: 'interpolation inside vars',
    files: { 'pipeline.yaml': 'vars:\n  - a: ${b}\nstages: {}\n' },
    line: 2,
    key: 'vars.0',
    message: /interpolation is not allowed in vars/,
  },
  {
    name: 'a vars file that does not exist',
    files: { 'pipeline.yaml': 'vars:\n  - missing.yaml\nstages: {}\n' },
    line: 2,
    key: 'vars.0',
    message: /vars file 'missing\.yaml' not found/,
  },
  {
    name: 'foreach without do',
    files: { 'pipeline.yaml': 'stages:\n  b:\n    foreach: [a]\n' },
    line: 2,
    key: 'stages.b',
    message: /'foreach' needs a 'do'/,
  },
  {
    name: 'a reserved character in a stage name',
    files: { 'pipeline.yaml': 'stages:\n  a@b:\n    cmd: x\n' },
    line: 2,
    key: 'stages.a@b',
    message: /invalid stage name 'a@b'/,
  },
];

function project(c: Case, t: { after(fn: () => void): void }): string {
  const dir = tempDir(t);
  writeFiles(dir, c.files);
  c.setup?.(dir);
  return dir;
}

describe('loadPipeline refuses bad pipeline files with a located ConfigError', () => {
  for (const c of cases) {
    test(c.name, (t) => {
      const dir = project(c, t);
      assert.throws(
        () => loadPipeline(dir),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, String(error));
          assert.match(error.detail, c.message);
          assert.equal(error.where.file, join(dir, c.file ?? 'pipeline.yaml'));
          if (c.line !== undefined) assert.equal(error.where.line, c.line);
          if (c.key !== undefined) assert.equal(error.where.key, c.key);
          return true;
        },
      );
    });
  }
});

// Child processes wait on I/O, so a few at once keep this quick.
describe('mlops stages exits 2 with one line naming file, line and key', { concurrency: 4 }, () => {
  for (const c of cases) {
    test(c.name, async (t) => {
      const dir = project(c, t);
      const r = await runMlops(['stages', '--json'], { cwd: dir });
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      const file = c.file ?? 'pipeline.yaml';
      const place = c.line === undefined ? file : `${file}:${c.line}`;
      assert.ok(lines[0]!.startsWith(`error: ${place}: ${c.key ? `'${c.key}': ` : ''}`), lines[0]);
      assert.match(lines[0]!, c.message);
    });
  }
});
