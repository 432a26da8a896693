// Every pipeline file of a project as one graph, as DVC 3.64 treats them: a monorepo of three
// pipelines in subfolders (each consuming the previous one's output, `../` paths), commands run from
// a subfolder, DVC's targets and defaults, lock files beside each pipeline, .gitignore entries.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gitInit, runMlops, tempDir, writeFiles } from './helpers.js';

const ran = (dir: string) => (existsSync(join(dir, 'runs.log')) ? readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n') : []);

/** sub/a prepares, sub/b uses a's output, the root's top uses b's: DVC's own checked layout. */
function monorepo(t: { after(fn: () => void): void }): string {
  const dir = tempDir(t);
  writeFiles(dir, {
    'data/raw.txt': 'raw\n',
    'sub/a/dvc.yaml': 'stages:\n  prep:\n    cmd: echo prep >> ../../runs.log && cat ../../data/raw.txt > prepared.txt\n    deps: [../../data/raw.txt]\n    outs: [prepared.txt]\n',
    'sub/b/dvc.yaml': 'stages:\n  use:\n    cmd: echo use >> ../../runs.log && cat ../a/prepared.txt > used.txt\n    deps: [../a/prepared.txt]\n    outs: [used.txt]\n',
    'dvc.yaml': 'stages:\n  top:\n    cmd: echo top >> runs.log && cat sub/b/used.txt > top.txt\n    deps: [sub/b/used.txt]\n    outs: [top.txt]\n',
    '.gitignore': 'runs.log\n',
  });
  gitInit(dir);
  return dir;
}

test('from a subfolder, repro runs that folder\'s pipeline and what it needs from other files; -P every pipeline', async (t) => {
  const dir = monorepo(t);
  const b = join(dir, 'sub/b');
  const first = await runMlops(['repro'], { cwd: b });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(ran(dir), ['prep', 'use']); // not the root's top (DVC 3.64)
  assert.match(first.stdout, /^\.\.\/a\/dvc\.yaml:prep: running/m);
  assert.match(first.stdout, /^use: running/m);
  // Each pipeline keeps its own lock file beside it.
  assert.match(readFileSync(join(dir, 'sub/a/dvc.lock'), 'utf8'), /prep:\n {4}cmd: .*\n {4}deps:\n {4}- path: \.\.\/\.\.\/data\/raw\.txt/);
  assert.match(readFileSync(join(dir, 'sub/b/dvc.lock'), 'utf8'), /use:/);
  assert.ok(!existsSync(join(dir, 'dvc.lock')));

  // status from the subfolder reports every stage of the repository, named from here.
  const status = await runMlops(['status', '--json'], { cwd: b });
  assert.deepEqual(Object.keys(JSON.parse(status.stdout)), ['../../dvc.yaml:top']);
  assert.equal((await runMlops(['status', '-q'], { cwd: b })).code, 1);
  assert.equal((await runMlops(['status', '-q'], { cwd: b })).stdout, '');

  const all = await runMlops(['repro', '-P'], { cwd: b });
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(ran(dir), ['prep', 'use', 'top']);
  assert.equal(readFileSync(join(dir, 'top.txt'), 'utf8'), 'raw\n');
  const quiet = await runMlops(['status', '-q'], { cwd: b });
  assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [0, '', '']);

  // A change upstream, in another file, reaches the root's stage.
  writeFileSync(join(dir, 'data/raw.txt'), 'raw 2\n');
  const fromRoot = await runMlops(['repro'], { cwd: dir });
  assert.equal(fromRoot.code, 0, fromRoot.stderr);
  assert.deepEqual(ran(dir).slice(3), ['prep', 'use', 'top']);
  assert.match(fromRoot.stdout, /^sub\/a\/dvc\.yaml:prep: running/m);
});

test('targets as DVC names them: a stage of this folder, path/dvc.yaml:stage, a whole pipeline file; --file narrows', async (t) => {
  const dir = monorepo(t);
  const a = join(dir, 'sub/a');
  const single = await runMlops(['repro', '-s', '../b/dvc.yaml:use'], { cwd: a });
  assert.equal(single.code, 1); // its dep is not there yet: only the target ran (-s)
  assert.match(single.stdout, /\.\.\/b\/dvc\.yaml:use: failed: dependency '\.\.\/a\/prepared\.txt' does not exist/);
  assert.deepEqual(ran(dir), []);
  assert.equal((await runMlops(['repro', 'prep'], { cwd: a })).code, 0);
  assert.equal((await runMlops(['repro', 'sub/b/dvc.yaml'], { cwd: dir })).code, 0);
  assert.deepEqual(ran(dir), ['prep', 'use']);
  const forced = await runMlops(['repro', '-f', 'sub/a/dvc.yaml:prep'], { cwd: dir });
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(ran(dir), ['prep', 'use', 'prep']);

  // A folder without a pipeline file takes the nearest one above it: here the root's.
  const fromData = await runMlops(['repro', '--dry'], { cwd: join(dir, 'data') });
  assert.equal(fromData.code, 0, fromData.stderr);
  assert.match(fromData.stdout, /^\.\.\/dvc\.yaml:top: would run/m);
  assert.doesNotMatch(fromData.stdout, /prep: would run/);
  const stagesHere = await runMlops(['stages', '--json'], { cwd: join(dir, 'sub/b') });
  assert.deepEqual(Object.keys(JSON.parse(stagesHere.stdout).stages), ['use']);
  const stageList = await runMlops(['stage', 'list', '--all', '--json'], { cwd: join(dir, 'sub/b') });
  assert.deepEqual(Object.keys(JSON.parse(stageList.stdout).stages), ['../../dvc.yaml:top', '../a/dvc.yaml:prep', 'use']);
  const dag = await runMlops(['dag'], { cwd: dir });
  assert.equal(dag.stdout, 'sub/a/dvc.yaml:prep\nsub/b/dvc.yaml:use <- sub/a/dvc.yaml:prep\ntop <- sub/b/dvc.yaml:use\n');

  writeFileSync(join(dir, 'sub/a/prepared.txt'), 'edited\n');
  const narrowed = await runMlops(['status', '--json', '--file', 'sub/b/dvc.yaml'], { cwd: dir });
  assert.deepEqual(JSON.parse(narrowed.stdout), { use: ["dep '../a/prepared.txt' modified"] });
  const outside = await runMlops(['status', '--file', '../elsewhere.yaml'], { cwd: dir });
  assert.equal(outside.code, 2);
  writeFileSync(join(dir, '..', `${dir.split('/').pop()}-outside.yaml`), 'stages: {}\n');
  t.after(() => rmSync(join(dir, '..', `${dir.split('/').pop()}-outside.yaml`), { force: true }));
  const outsideFile = await runMlops(['status', '--file', `../${dir.split('/').pop()}-outside.yaml`], { cwd: dir });
  assert.equal(outsideFile.code, 2);
  assert.match(outsideFile.stderr, /^error: .*-outside\.yaml: pipeline file is outside the project/);
});

test('two pipeline files declaring one output, or a cycle across files: exit 2 naming both, nothing run', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'dvc.yaml': 'stages:\n  one:\n    cmd: echo 1 > shared.txt\n    outs: [shared.txt]\n',
    'sub/dvc.yaml': 'stages:\n  two:\n    cmd: echo 2 > ../shared.txt\n    outs: [../shared.txt]\n',
  });
  const dup = await runMlops(['repro', '-P'], { cwd: dir });
  assert.equal(dup.code, 2);
  assert.equal(dup.stderr, "error: sub/dvc.yaml:2: 'stages.two': output 'shared.txt' is declared by both 'one' and 'sub/dvc.yaml:two'\n");
  assert.ok(!existsSync(join(dir, 'shared.txt')));

  writeFiles(dir, {
    'dvc.yaml': 'stages:\n  one:\n    cmd: cat sub/b.txt > a.txt\n    deps: [sub/b.txt]\n    outs: [a.txt]\n',
    'sub/dvc.yaml': 'stages:\n  two:\n    cmd: cat ../a.txt > b.txt\n    deps: [../a.txt]\n    outs: [b.txt]\n',
  });
  gitInit(dir); // the root is the git top, so `..` from sub/ stays inside it
  const cycle = await runMlops(['status'], { cwd: join(dir, 'sub') });
  assert.equal(cycle.code, 2);
  assert.match(cycle.stderr, /^error: .*dvc\.yaml:2: 'stages\.(one|two)': dependency cycle: /);
  assert.ok(!existsSync(join(dir, '.mlops')));
});

test('.dvcignore and .mlopsignore hide pipeline files; .git, .mlops and node_modules are never read', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'dvc.yaml': 'stages:\n  keep:\n    cmd: echo k\n',
    'vendor/dvc.yaml': 'stages: [broken\n',
    'node_modules/x/dvc.yaml': 'stages: [broken\n',
    'exp/old/pipeline.yaml': 'stages: [broken\n',
    'exp/new/pipeline.yaml': 'stages:\n  fresh:\n    cmd: echo f\n',
    '.dvcignore': '# third-party code\nvendor/\n',
    'exp/.mlopsignore': 'old\n',
  });
  const r = await runMlops(['stage', 'list', '--all', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(Object.keys(JSON.parse(r.stdout).stages), ['keep', 'exp/new/pipeline.yaml:fresh']);
});

test('a missing param: stages and dag list the stage, status shows it deleted, repro refuses it (exit 2) before running anything', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'params.yaml': 'train:\n  lr: 1\n',
    'pipeline.yaml': 'stages:\n  first:\n    cmd: echo first >> runs.log\n  train:\n    cmd: echo train >> runs.log && echo m > model.txt\n    params: [train.lr]\n    outs: [model.txt]\n',
  });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  writeFileSync(join(dir, 'params.yaml'), 'train:\n  lrr: 1\n');
  assert.equal((await runMlops(['stages'], { cwd: dir })).code, 0);
  assert.equal((await runMlops(['dag'], { cwd: dir })).code, 0);
  const status = await runMlops(['status', '--json'], { cwd: dir });
  assert.equal(status.code, 0, status.stderr);
  assert.deepEqual(JSON.parse(status.stdout), { first: ['always changed'], train: ['param params.yaml:train.lr deleted'] });
  const repro = await runMlops(['repro'], { cwd: dir });
  assert.equal(repro.code, 2);
  assert.equal(repro.stderr, "error: pipeline.yaml:4: 'stages.train.params': param 'train.lr' not found in 'params.yaml' (did you mean 'train.lrr'?)\n");
  assert.deepEqual(ran(dir), ['first', 'train']); // the first run only
});

test('.gitignore beside each cached output, in a git work tree only, once; cache: false outputs are not ignored', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'sub/dvc.yaml': 'stages:\n  s:\n    cmd: mkdir -p ../models && echo m > ../models/model.bin && echo r > report.json\n    outs: [../models/model.bin]\n    metrics:\n      - report.json:\n          cache: false\n',
    'models/.gitignore': '# mine\n*.tmp\n',
  });
  gitInit(dir);
  assert.equal((await runMlops(['repro', '-P'], { cwd: dir })).code, 0);
  assert.equal(readFileSync(join(dir, 'models/.gitignore'), 'utf8'), '# mine\n*.tmp\n/model.bin\n');
  assert.ok(!existsSync(join(dir, 'sub/.gitignore')));
  assert.equal((await runMlops(['repro', '-P', '-f'], { cwd: dir })).code, 0);
  assert.equal(readFileSync(join(dir, 'models/.gitignore'), 'utf8'), '# mine\n*.tmp\n/model.bin\n');
  // The output stops being cached: its line goes.
  writeFiles(dir, { 'sub/dvc.yaml': 'stages:\n  s:\n    cmd: mkdir -p ../models && echo m > ../models/model.bin\n    outs:\n      - ../models/model.bin:\n          cache: false\n' });
  assert.equal((await runMlops(['repro', '-P'], { cwd: dir })).code, 0);
  assert.equal(readFileSync(join(dir, 'models/.gitignore'), 'utf8'), '# mine\n*.tmp\n');

  const plain = tempDir(t);
  writeFiles(plain, { 'dvc.yaml': 'stages:\n  s:\n    cmd: echo m > model.bin\n    outs: [model.bin]\n' });
  assert.equal((await runMlops(['repro'], { cwd: plain })).code, 0);
  assert.ok(!existsSync(join(plain, '.gitignore')));
});

test('an empty pipeline file writes no .mlops/ state', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'dvc.yaml': '' });
  for (const args of [['repro'], ['status'], ['checkout'], ['gc', '-f'], ['repro', '-P']]) {
    const r = await runMlops(args, { cwd: dir });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  assert.ok(!existsSync(join(dir, '.mlops')));
});
