import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gitInit, MLOPS_BIN, runMlops, tempDir, writeFiles } from './helpers.js';

// Two stages, each with its own metrics file; b's metrics file exists only once b has run.
const PROJECT = {
  'params.yaml': 'a:\n  lr: 0.1\nb:\n  depth: 3\n',
  'pipeline.yaml': `stages:
  a:
    cmd: >-
      awk 'BEGIN { printf "{\\"score\\": %g, \\"loss\\": 1}", \${a.lr} * 10 }' > a.json
    params: [a]
    metrics:
      - a.json:
          cache: false
  b:
    cmd: >-
      awk 'BEGIN { printf "{\\"score\\": %g}", \${b.depth} }' > b.json
    params: [b]
    metrics:
      - b.json:
          cache: false
`,
};

const csv = async (dir: string, ...args: string[]) => {
  const r = await runMlops(['exp', 'show', '--csv', ...args], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => l.split(','));
};

test('exp show: column names do not depend on which metrics files existed when a row was recorded; CSV leaves missing values empty', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, PROJECT);
  assert.equal((await runMlops(['exp', 'run', 'a', '-n', 'only-a'], { cwd: dir })).code, 0);
  assert.equal((await runMlops(['exp', 'run', '-S', 'a.lr=0.2', '-n', 'both'], { cwd: dir })).code, 0);
  const [header, ...rows] = await csv(dir);
  assert.deepEqual(header, ['Experiment', 'Created', 'State', 'a.json/loss', 'a.json/score', 'b.json/score', 'a.lr', 'b.depth']);
  const byName = Object.fromEntries(rows.map((r) => [r[0], r]));
  assert.deepEqual(byName['only-a']!.slice(2), ['Success', '1', '1', '', '0.1', '3']);
  assert.deepEqual(byName['both']!.slice(2), ['Success', '1', '2', '3', '0.2', '3']);
  assert.deepEqual(byName['workspace']!.slice(1), ['', '', '1', '2', '3', '0.2', '3']);
});

test('exp show: a baseline row per commit (-A) with its experiments under it, a State column, --drop/--keep, --sort-by within each baseline', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, PROJECT);
  gitInit(dir);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  assert.equal((await runMlops(['exp', 'run', '-S', 'a.lr=0.3', '-n', 'old'], { cwd: dir })).code, 0);
  git('add', '-A');
  git('commit', '-qm', 'lr 0.3 results');
  for (const [lr, name] of [['0.5', 'lr05'], ['0.4', 'lr04']]) {
    assert.equal((await runMlops(['exp', 'run', '-S', `a.lr=${lr}`, '-n', name], { cwd: dir })).code, 0);
  }
  writeFileSync(join(dir, 'params.yaml'), 'a:\n  lr: 0.9\nb:\n  depth: 3\n'); // an uncommitted edit: workspace only

  // The baseline is HEAD (its branch's name) with the committed values; only its experiments by default.
  const [header, ...rows] = await csv(dir, '--sort-by', 'a.json/score', '--drop', '^(Created|b\\.)', '--keep', 'b\\.depth');
  assert.deepEqual(header, ['Experiment', 'State', 'a.json/loss', 'a.json/score', 'a.lr', 'b.depth']);
  assert.deepEqual(rows.map((r) => [r[0], r[1], r[3], r[4]]), [
    ['workspace', '', '4', '0.9'],
    ['main', '', '3', '0.3'],
    ['lr04', 'Success', '4', '0.4'],
    ['lr05', 'Success', '5', '0.5'],
  ]);

  const all = await runMlops(['exp', 'show', '-A', '--only-changed', '--drop', 'Created'], { cwd: dir });
  assert.equal(all.code, 0, all.stderr);
  const names = all.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/)[0]);
  assert.deepEqual(names, ['Experiment', 'workspace', 'main', '├── lr04', '└── lr05', names[5], '└── old']);
  assert.match(names[5]!, /^[0-9a-f]{7}$/, 'the first commit, by its short hash');

  const bad = await runMlops(['exp', 'show', '--drop', '('], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: --drop: not a regular expression/);
});

test('exp show on a terminal fits its width, with a note on what is left out; piped it keeps every column', async (t) => {
  const dir = tempDir(t);
  const keys = Array.from({ length: 30 }, (_, i) => `metric_with_a_long_name_${i}`);
  writeFiles(dir, {
    'params.yaml': 'x: 1\n',
    'pipeline.yaml': 'stages:\n  s:\n    cmd: cp wide.json m.json\n    params: [x]\n    metrics:\n      - m.json:\n          cache: false\n',
    'wide.json': JSON.stringify(Object.fromEntries(keys.map((k, i) => [k, i + 0.5]))),
  });
  assert.equal((await runMlops(['exp', 'run', '-n', 'wide'], { cwd: dir })).code, 0);
  const env: NodeJS.ProcessEnv = { ...process.env, MLOPS_ROOT: '' };
  delete env.CI;
  const shown = spawnSync('script', ['-qfc', `stty cols 72; ${process.execPath} ${MLOPS_BIN} exp show`, '/dev/null'], { cwd: dir, env, encoding: 'utf8' });
  const lines = shown.stdout.split(/\r?\n/).filter(Boolean);
  assert.ok(lines.length >= 3, shown.stdout);
  for (const line of lines) assert.ok(line.length <= 72, `${line.length} characters: ${line}`);
  assert.match(shown.stdout, /^Experiment\s+Created\s+State\s+metric_with_a_long_name…/m);
  assert.match(shown.stdout, /note: \d+ of 34 columns left out to fit 72 characters\r?\nnote: choose with --drop\/--keep, or see all with --csv or --json/);

  const piped = await runMlops(['exp', 'show'], { cwd: dir });
  assert.equal(piped.stdout.split('\n')[0]!.split(/\s{2,}/).length, 34);
  assert.equal(piped.stderr, '');
});

test('exp show: an experiment still RUNNING whose process is gone (kill -9 while recording) shows as Dead', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, PROJECT);
  // A process recording an experiment, as `exp run` does after its stages, killed before it ends the run.
  const script = `
    import { startRun } from ${JSON.stringify(new URL('../src/tracking/tracked-run.js', import.meta.url).href)};
    import { Project } from ${JSON.stringify(new URL('../src/project/project.js', import.meta.url).href)};
    import { EXPERIMENT_KIND, EXPERIMENT_TAG } from ${JSON.stringify(new URL('../src/exp/record.js', import.meta.url).href)};
    const run = await startRun({ project: Project.open(${JSON.stringify(dir)}), stageName: 'exp', runName: 'hung' });
    await run.setTags({ [EXPERIMENT_TAG]: EXPERIMENT_KIND });
    process.stdout.write(run.runId + '\\n');
    setTimeout(() => {}, 60000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  const state = async () => {
    const shown = await runMlops(['exp', 'show', '--json'], { cwd: dir });
    assert.equal(shown.code, 0, shown.stderr);
    return (JSON.parse(shown.stdout) as { name: string; state: string }[]).find((r) => r.name === 'hung')?.state;
  };
  assert.equal(await state(), 'Running');
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal(await state(), 'Dead');
  const [, ...rows] = await csv(dir);
  assert.equal(rows.find((r) => r[0] === 'hung')![2], 'Dead');
});
