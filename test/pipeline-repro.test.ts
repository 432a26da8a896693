import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { runMlops, tempDir, writeFiles } from './helpers.js';

const lock = (dir: string) => parse(readFileSync(join(dir, 'pipeline.lock'), 'utf8'));
const runs = (dir: string) => (existsSync(join(dir, 'runs.log')) ? readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n') : []);

// Each stage appends its name to runs.log (not an output), so tests see exactly which commands ran.
const TWO_STAGES = {
  'params.yaml': 'prep:\n  factor: 2\ntrain:\n  lr: 0.1\nunrelated: 1\n',
  'data/raw.txt': 'raw data\n',
  'pipeline.yaml': `stages:
  prep:
    cmd: echo prep >> runs.log && mkdir -p out && cat data/raw.txt > out/clean.txt
    deps: [data/raw.txt]
    params: [prep.factor]
    outs: [out]
  train:
    cmd: echo train >> runs.log && cat out/clean.txt > model.txt && echo '{"acc":0.9}' > metrics.json
    deps: [out]
    params: [train.lr]
    outs: [model.txt]
    metrics:
      - metrics.json:
          cache: false
`,
};

test('first repro runs stages in order and writes a DVC schema-2.0 lock; the second does nothing', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, TWO_STAGES);
  const first = await runMlops(['repro'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(runs(dir), ['prep', 'train']);
  const l = lock(dir);
  assert.equal(l.schema, '2.0');
  assert.deepEqual(Object.keys(l.stages), ['prep', 'train']);
  assert.deepEqual(l.stages.prep.deps, [{ path: 'data/raw.txt', hash: 'md5', md5: createHash('md5').update('raw data\n').digest('hex'), size: 9 }]);
  assert.deepEqual(l.stages.prep.params, { 'params.yaml': { 'prep.factor': 2 } });
  assert.equal(l.stages.prep.outs[0].path, 'out');
  assert.match(l.stages.prep.outs[0].md5, /^[0-9a-f]{32}\.dir$/);
  assert.equal(l.stages.prep.outs[0].nfiles, 1);
  assert.deepEqual(l.stages.train.outs.map((o: { path: string }) => o.path), ['metrics.json', 'model.txt']);

  const second = await runMlops(['repro'], { cwd: dir });
  assert.equal(second.code, 0);
  assert.deepEqual(runs(dir), ['prep', 'train']);
  assert.match(second.stdout, /prep: up to date/);
  assert.match(second.stdout, /train: up to date/);
});

test('a changed dep re-runs the stage and its dependants, saying which dep changed', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, TWO_STAGES);
  await runMlops(['repro'], { cwd: dir });
  writeFileSync(join(dir, 'data/raw.txt'), 'new raw data\n');
  const r = await runMlops(['repro'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(runs(dir), ['prep', 'train', 'prep', 'train']);
  assert.match(r.stdout, /prep: running \(dep 'data\/raw\.txt' modified\)/);
  assert.match(r.stdout, /train: running \(dep 'out' modified\)/);
});

test('only a listed param re-runs a stage; an unrelated key never does', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, TWO_STAGES);
  await runMlops(['repro'], { cwd: dir });
  writeFileSync(join(dir, 'params.yaml'), 'prep:\n  factor: 2\ntrain:\n  lr: 0.1\nunrelated: 99\n');
  await runMlops(['repro'], { cwd: dir });
  assert.deepEqual(runs(dir), ['prep', 'train']);
  writeFileSync(join(dir, 'params.yaml'), 'prep:\n  factor: 2\ntrain:\n  lr: 0.05\nunrelated: 99\n');
  const r = await runMlops(['repro'], { cwd: dir });
  assert.deepEqual(runs(dir), ['prep', 'train', 'train']);
  assert.match(r.stdout, /train: running \(param params\.yaml:train\.lr 0\.1 -> 0\.05\)/);
  assert.equal(lock(dir).stages.train.params['params.yaml']['train.lr'], 0.05);
});

test('a changed cmd re-runs; frozen never runs; always_changed always runs', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': `stages:
  a:
    cmd: echo a >> runs.log && echo 1 > a.txt
    outs: [a.txt]
  b:
    cmd: echo b >> runs.log
    always_changed: true
`,
  });
  await runMlops(['repro'], { cwd: dir });
  await runMlops(['repro'], { cwd: dir });
  assert.deepEqual(runs(dir), ['a', 'b', 'b']);
  writeFileSync(join(dir, 'pipeline.yaml'), readFileSync(join(dir, 'pipeline.yaml'), 'utf8').replace('echo 1', 'echo 2'));
  const r = await runMlops(['repro', 'a'], { cwd: dir });
  assert.match(r.stdout, /a: running \(cmd changed\)/);
  writeFileSync(join(dir, 'pipeline.yaml'), readFileSync(join(dir, 'pipeline.yaml'), 'utf8').replace('echo 2', 'echo 3').replace('outs: [a.txt]', 'outs: [a.txt]\n    frozen: true'));
  const frozen = await runMlops(['repro', 'a'], { cwd: dir });
  assert.match(frozen.stdout, /a: frozen/);
  assert.deepEqual(runs(dir), ['a', 'b', 'b', 'a']);
});

test('a list cmd stops at its first failure: exit 1, the previous lock entry kept, dependants not run', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'in.txt': 'v1',
    'pipeline.yaml': `stages:
  step:
    cmd:
      - cat in.txt > out.txt
      - grep -q v1 in.txt
      - echo after >> runs.log
    deps: [in.txt]
    outs: [out.txt]
  next:
    cmd: echo next >> runs.log && cp out.txt next.txt
    deps: [out.txt]
    outs: [next.txt]
`,
  });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  const good = readFileSync(join(dir, 'pipeline.lock'), 'utf8');
  writeFileSync(join(dir, 'in.txt'), 'v2');
  const r = await runMlops(['repro'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /step: failed: command 'grep -q v1 in.txt' exited with code 1/);
  assert.match(r.stdout, /next: not run \(upstream stage 'step' failed\)/);
  assert.deepEqual(runs(dir), ['after', 'next']); // the third command of the failing run never ran
  assert.equal(readFileSync(join(dir, 'pipeline.lock'), 'utf8'), good);
});

test('-k goes on with independent branches after a failure; without it the run stops', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': `stages:
  bad:
    cmd: exit 3
  after-bad:
    cmd: echo after-bad >> runs.log
    deps: [bad.txt]
  good:
    cmd: echo good >> runs.log && echo ok > good.txt
    outs: [good.txt]
`,
  });
  writeFileSync(join(dir, 'pipeline.yaml'), readFileSync(join(dir, 'pipeline.yaml'), 'utf8').replace('cmd: exit 3', 'cmd: exit 3\n    outs: [bad.txt]'));
  const stop = await runMlops(['repro'], { cwd: dir });
  assert.equal(stop.code, 1);
  assert.deepEqual(runs(dir), []);
  const keep = await runMlops(['repro', '-k'], { cwd: dir });
  assert.equal(keep.code, 1);
  assert.deepEqual(runs(dir), ['good']);
  assert.match(keep.stdout, /after-bad: not run \(upstream stage 'bad' failed\)/);
});

test('run-cache: going back to an earlier param value restores outputs without running, and says so', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'params.yaml': 'n: 1\n',
    'in.txt': 'x',
    'pipeline.yaml': 'stages:\n  s:\n    cmd: echo s >> runs.log && echo ${n} > out.txt\n    deps: [in.txt]\n    params: [n]\n    outs: [out.txt]\n',
  });
  await runMlops(['repro'], { cwd: dir });
  writeFileSync(join(dir, 'params.yaml'), 'n: 2\n');
  await runMlops(['repro'], { cwd: dir });
  writeFileSync(join(dir, 'params.yaml'), 'n: 1\n');
  const back = await runMlops(['repro'], { cwd: dir });
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stdout, /s: restored from run-cache \(command not run\)/);
  assert.deepEqual(runs(dir), ['s', 's']);
  assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), '1\n');
  assert.equal(lock(dir).stages.s.params['params.yaml'].n, 1);

  writeFileSync(join(dir, 'params.yaml'), 'n: 2\n');
  const noCache = await runMlops(['repro', '--no-run-cache'], { cwd: dir });
  assert.match(noCache.stdout, /s: running/);
  assert.deepEqual(runs(dir), ['s', 's', 's']);
});

test('run-cache: a stage with cache: false outputs (metrics, reports) is restored too, those outputs included (as DVC)', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'params.yaml': 'n: 1\n',
    'in.txt': 'x',
    'pipeline.yaml':
      'stages:\n  s:\n    cmd: "echo s >> runs.log && echo ${n} > out.txt && echo n: ${n} > metrics.yaml"\n    deps: [in.txt]\n    params: [n]\n' +
      '    outs: [out.txt]\n    metrics:\n      - metrics.yaml:\n          cache: false\n',
  });
  for (const n of [1, 2]) {
    writeFileSync(join(dir, 'params.yaml'), `n: ${n}\n`);
    assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  }
  writeFileSync(join(dir, 'params.yaml'), 'n: 1\n');
  const back = await runMlops(['repro'], { cwd: dir });
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stdout, /s: restored from run-cache \(command not run\)/);
  assert.deepEqual(runs(dir), ['s', 's']);
  assert.equal(readFileSync(join(dir, 'metrics.yaml'), 'utf8'), 'n: 1\n');
  assert.equal((await runMlops(['status'], { cwd: dir })).stdout.includes('changed'), false);
});

test('a deleted output is restored by checkout; a modified one only with -f (as DVC); a corrupted cache object is reported, not used', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  s:\n    cmd: mkdir -p d && echo one > d/a.txt && echo two > b.txt\n    outs: [d, b.txt]\n' });
  await runMlops(['repro'], { cwd: dir });
  rmSync(join(dir, 'd'), { recursive: true });
  writeFileSync(join(dir, 'b.txt'), 'edited\n');
  const refused = await runMlops(['checkout'], { cwd: dir });
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, 'error: checkout: modified outputs would be overwritten (their content is not in the cache): b.txt; use --force to overwrite them\n');
  assert.equal(readFileSync(join(dir, 'b.txt'), 'utf8'), 'edited\n');
  assert.ok(!existsSync(join(dir, 'd')), 'nothing is restored when one output is refused');
  const r = await runMlops(['checkout', '-f'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(dir, 'd/a.txt'), 'utf8'), 'one\n');
  assert.equal(readFileSync(join(dir, 'b.txt'), 'utf8'), 'two\n');

  // Corrupt the object behind b.txt, then ask for it back.
  const md5 = lock(dir).stages.s.outs.find((o: { path: string }) => o.path === 'b.txt').md5 as string;
  const object = join(dir, '.mlops/cache/files/md5', md5.slice(0, 2), md5.slice(2));
  rmSync(object);
  writeFileSync(object, 'garbage');
  writeFileSync(join(dir, 'b.txt'), 'edited again\n');
  const bad = await runMlops(['checkout', '--force'], { cwd: dir });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /b\.txt: cache object [0-9a-f]{32} is corrupted/);
  assert.equal(readFileSync(join(dir, 'b.txt'), 'utf8'), 'edited again\n');
});

test('gc removes objects the lock no longer references; --dry only lists them', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': 'v: 1\n', 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo ${v} > o.txt\n    params: [v]\n    outs: [o.txt]\n' });
  await runMlops(['repro'], { cwd: dir });
  writeFileSync(join(dir, 'params.yaml'), 'v: 2\n');
  await runMlops(['repro'], { cwd: dir });
  const dry = await runMlops(['gc', '--dry', '--json'], { cwd: dir });
  const { removed } = JSON.parse(dry.stdout) as { removed: string[] };
  assert.equal(removed.length, 1);
  const object = join(dir, '.mlops/cache/files/md5', removed[0]!.slice(0, 2), removed[0]!.slice(2));
  assert.ok(existsSync(object));
  assert.equal((await runMlops(['gc', '-f'], { cwd: dir })).code, 0);
  assert.ok(!existsSync(object));
  assert.equal((await runMlops(['checkout'], { cwd: dir })).code, 0); // what the lock needs is still there
});

test('stages run in their wdir with MLOPS_ROOT, MLOPS_STAGE, and this build of mlops first on PATH', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'sub/.keep': '',
    'pipeline.yaml': `stages:
  env:
    wdir: sub
    cmd: echo "$MLOPS_ROOT|$MLOPS_STAGE|$(pwd)" > env.txt && mlops --version > version.txt
    outs: [env.txt, version.txt]
`,
  });
  const r = await runMlops(['repro'], { cwd: dir, env: { PATH: '/usr/bin:/bin' } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const [root, stage, cwd] = readFileSync(join(dir, 'sub/env.txt'), 'utf8').trim().split('|');
  assert.equal(root, dir);
  assert.equal(stage, 'env');
  assert.equal(cwd, join(dir, 'sub'));
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(readFileSync(join(dir, 'sub/version.txt'), 'utf8').trim(), pkg.version);
});

test('-j 2 runs independent stages at the same time', async (t) => {
  const dir = tempDir(t);
  // Each stage signals that it started, then waits for the other: only a parallel run finishes both.
  const stage = (me: string, other: string) =>
    `  ${me}:\n    cmd: touch ${me}.started && for i in $(seq 100); do [ -f ${other}.started ] && break; sleep 0.05; done && [ -f ${other}.started ] && echo ok > ${me}.out\n    outs: [${me}.out]\n`;
  writeFiles(dir, { 'pipeline.yaml': `stages:\n${stage('a', 'b')}${stage('b', 'a')}` });
  const r = await runMlops(['repro', '-j', '2'], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(existsSync(join(dir, 'a.out')) && existsSync(join(dir, 'b.out')));
});

test('--dry and status say what would run and why, and change nothing', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, TWO_STAGES);
  const dry = await runMlops(['repro', '--dry'], { cwd: dir });
  assert.equal(dry.code, 0);
  assert.match(dry.stdout, /prep: would run \(never ran\)/);
  assert.ok(!existsSync(join(dir, 'pipeline.lock')) && runs(dir).length === 0);
  await runMlops(['repro'], { cwd: dir });
  writeFileSync(join(dir, 'data/raw.txt'), 'changed\n');
  const status = await runMlops(['status', '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(status.stdout), {
    prep: ["dep 'data/raw.txt' modified"],
    train: ["upstream stage 'prep' changes"],
  });
  assert.deepEqual(runs(dir), ['prep', 'train']);
  const clean = await runMlops(['status'], { cwd: join(dir) });
  assert.match(clean.stdout, /prep: changed/);
});

test('targets, --single-item and --downstream select stages as DVC does', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, TWO_STAGES);
  await runMlops(['repro', 'prep'], { cwd: dir });
  assert.deepEqual(runs(dir), ['prep']);
  await runMlops(['repro', '--force', '--single-item', 'train'], { cwd: dir });
  assert.deepEqual(runs(dir), ['prep', 'train']);
  await runMlops(['repro', '--force', '--downstream', 'prep'], { cwd: dir });
  assert.deepEqual(runs(dir), ['prep', 'train', 'prep', 'train']);
});

test('a command that does not create a declared output fails the stage', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  s:\n    cmd: "true"\n    outs: [never.txt]\n' });
  const r = await runMlops(['repro'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /s: failed: output 'never\.txt' was not created/);
  assert.ok(!existsSync(join(dir, 'pipeline.lock')));
});

test('outputs are removed before a run unless persist is set', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'params.yaml': 'v: 1\n',
    'pipeline.yaml': `stages:
  s:
    cmd: echo \${v} >> kept.txt && echo \${v} >> fresh.txt
    params: [v]
    outs:
      - kept.txt:
          persist: true
      - fresh.txt
`,
  });
  await runMlops(['repro'], { cwd: dir });
  writeFileSync(join(dir, 'params.yaml'), 'v: 2\n');
  await runMlops(['repro'], { cwd: dir });
  assert.equal(readFileSync(join(dir, 'kept.txt'), 'utf8'), '1\n2\n');
  assert.equal(readFileSync(join(dir, 'fresh.txt'), 'utf8'), '2\n');
});

test('repro --json reports every stage with its status and typed reasons; stage output goes to stderr', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, TWO_STAGES);
  await runMlops(['repro'], { cwd: dir });
  writeFileSync(join(dir, 'params.yaml'), 'prep:\n  factor: 2\ntrain:\n  lr: 0.2\nunrelated: 1\n');
  const r = await runMlops(['repro', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.stages.prep.status, 'up-to-date');
  assert.equal(report.stages.train.status, 'ran');
  assert.deepEqual(report.stages.train.changes, [{ type: 'param-changed', file: 'params.yaml', key: 'train.lr', old: 0.1, new: 0.2 }]);
});

test('a tracked params section reports the leaf key that changed, not the whole section', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'params.yaml': 'train:\n  lr: 0.1\n  grid: {depth: [3, 5]}\n',
    'pipeline.yaml': 'stages:\n  s:\n    cmd: echo s > s.txt\n    params: [train]\n    outs: [s.txt]\n',
  });
  await runMlops(['repro'], { cwd: dir });
  writeFileSync(join(dir, 'params.yaml'), 'train:\n  lr: 0.1\n  grid: {depth: [3, 7]}\n');
  const r = await runMlops(['status', '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(r.stdout), { s: ['param params.yaml:train.grid.depth [3,5] -> [3,7]'] });
});

test('gc keeps what any lock file of the project references, not only the pipeline it was given', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': 'stages:\n  a:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n',
    'other.yaml': 'stages:\n  b:\n    cmd: echo b > b.txt\n    outs: [b.txt]\n',
  });
  await runMlops(['repro'], { cwd: dir });
  await runMlops(['repro', '--file', 'other.yaml'], { cwd: dir });
  const r = await runMlops(['gc', '-f', '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(r.stdout).removed, []);
  rmSync(join(dir, 'b.txt'));
  assert.equal((await runMlops(['checkout', '--file', 'other.yaml'], { cwd: dir })).code, 0);
  assert.equal(readFileSync(join(dir, 'b.txt'), 'utf8'), 'b\n');
});
