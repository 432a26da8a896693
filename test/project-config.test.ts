import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gitInit, runMlops, tempDir, writeFiles } from './helpers.js';

// `mlops init` and `mlops config` in real git repositories, through the real CLI.

const git = (dir: string, ...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });

test('init: .mlops/ with config and a .gitignore that commits only the config; a second init says so', async (t) => {
  const dir = tempDir(t);
  gitInit(dir);
  const first = await runMlops(['init'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /created \.mlops\/config\ncreated \.mlops\/\.gitignore\ninitialized/);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo hi > out.txt\n    outs: [out.txt]\n' });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  // (state-roots.json may not exist yet: a just-written output's stat is not remembered, racy-clean rule)
  assert.ok(existsSync(join(dir, '.mlops', 'cache')) && existsSync(join(dir, '.mlops', 'snapshot.json')));
  const untracked = git(dir, 'status', '--porcelain', '--untracked-files=all', '.mlops');
  assert.deepEqual(untracked.trim().split('\n').sort(), ['?? .mlops/.gitignore', '?? .mlops/config']);

  const again = await runMlops(['init'], { cwd: dir });
  assert.equal(again.code, 0);
  assert.equal(again.stdout, 'already an mlops project: .mlops/ exists\n');
});

test('a repro in a project without init still keeps its state out of git', async (t) => {
  const dir = tempDir(t);
  gitInit(dir);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo hi > out.txt\n    outs: [out.txt]\n' });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  assert.equal(git(dir, 'status', '--porcelain', '--untracked-files=all', '.mlops').trim(), '?? .mlops/.gitignore');
});

test('config: set, get, list and unset, with --local over the shared file, from a subfolder too', async (t) => {
  const dir = tempDir(t);
  gitInit(dir);
  await runMlops(['init'], { cwd: dir });
  mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
  const sub = join(dir, 'sub', 'deeper');
  assert.equal((await runMlops(['config', 'tracking.uri', 'runs'], { cwd: sub })).code, 0);
  assert.equal((await runMlops(['config', 'tracking.experiment', 'forest'], { cwd: dir })).code, 0);
  assert.equal((await runMlops(['config', '--local', 'tracking.uri', '/secret/runs'], { cwd: dir })).code, 0);
  assert.equal(readFileSync(join(dir, '.mlops', 'config'), 'utf8'), '[tracking]\n    uri = runs\n    experiment = forest\n');
  assert.equal(readFileSync(join(dir, '.mlops', 'config.local'), 'utf8'), '[tracking]\n    uri = /secret/runs\n');
  assert.equal((await runMlops(['config', 'tracking.uri'], { cwd: sub })).stdout, '/secret/runs\n');
  assert.equal((await runMlops(['config', '--list'], { cwd: sub })).stdout, 'tracking.experiment=forest\ntracking.uri=/secret/runs\n');
  assert.equal((await runMlops(['config', '--local', '--list'], { cwd: dir })).stdout, 'tracking.uri=/secret/runs\n');
  assert.equal((await runMlops(['config', '--local', '--unset', 'tracking.uri'], { cwd: dir })).code, 0);
  assert.equal((await runMlops(['config', 'tracking.uri'], { cwd: dir })).stdout, 'runs\n');
  assert.equal((await runMlops(['config', 'tracking.uri', 'elsewhere'], { cwd: dir })).code, 0);
  assert.equal(readFileSync(join(dir, '.mlops', 'config'), 'utf8'), '[tracking]\n    uri = elsewhere\n    experiment = forest\n', 'edited in place');
  assert.deepEqual(readdirSync(join(dir, '.mlops')).filter((f) => f.includes('.tmp-')), [], 'written through a temp file and renamed');
});

test('config: comments and other lines survive an edit; DVC-style quoted section headers are read', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { '.mlops/config': "# shared settings\n['tracking']\n    experiment = 'forest'   \n\n; the cache\n[cache]\n    dir = ../cache\n" });
  assert.equal((await runMlops(['config', 'tracking.experiment'], { cwd: dir })).stdout, 'forest\n');
  assert.equal((await runMlops(['config', 'cache.dir', '/big/cache'], { cwd: dir })).code, 0);
  assert.equal(readFileSync(join(dir, '.mlops', 'config'), 'utf8'), "# shared settings\n['tracking']\n    experiment = 'forest'   \n\n; the cache\n[cache]\n    dir = /big/cache\n");
});

const CONFIG_ERRORS: [string, string, string[], RegExp][] = [
  ['an unknown key in the file (any command)', '[cache]\n    dri = x\n', ['status'], /^error: \.mlops\/config:2: 'cache\.dri': unknown config key \(did you mean 'cache\.dir'\?\)$/],
  ['an unknown section', '[trackin]\n    uri = x\n', ['config', '--list'], /^error: \.mlops\/config:2: 'trackin\.uri': unknown config key \(did you mean 'tracking\.uri'\?\)$/],
  ['a line that is not key = value', '[cache]\n    dir\n', ['runs', 'list'], /^error: \.mlops\/config:2: expected '\[section\]' or 'key = value'$/],
  ['a key before any section', 'dir = x\n', ['config', 'cache.dir'], /^error: \.mlops\/config:1: 'key = value' before any '\[section\]'$/],
  ['a bad section header', '[cache x y]\n', ['stages'], /^error: \.mlops\/config:1: invalid section header '\[cache x y\]'$/],
  ['an empty value', '[tracking]\n    experiment =\n', ['status'], /^error: \.mlops\/config:2: 'tracking\.experiment': expected a value$/],
  ['setting an unknown key', '', ['config', 'tracking.experment', 'x'], /^error: 'tracking\.experment': unknown config key \(did you mean 'tracking\.experiment'\?\)$/],
  ['a key without a section', '', ['config', 'dir', 'x'], /^error: 'dir': expected a key of the form section\.key$/],
  ['getting a key that is not set', '', ['config', 'cache.dir'], /^error: 'cache\.dir' is not set$/],
  ['unsetting a key that is not set', '', ['config', '--unset', 'cache.dir'], /^error: \.mlops\/config: 'cache\.dir' is not set$/],
  ['an unknown tracking URI scheme', '[tracking]\n    uri = mysql://db/runs\n', ['runs', 'list'], /^error: \.mlops\/config:2: 'tracking\.uri': tracking store URI 'mysql:\/\/db\/runs': unsupported scheme 'mysql:' \(supported: file:, sqlite:, postgresql:, postgres: or a plain path\)$/],
];

for (const [what, config, args, message] of CONFIG_ERRORS) {
  test(`config error, exit 2 with one line, nothing written: ${what}`, async (t) => {
    const dir = tempDir(t);
    writeFiles(dir, { '.mlops/config': config, 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo hi > out.txt\n    outs: [out.txt]\n' });
    const r = await runMlops(args, { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr.trim(), message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(readFileSync(join(dir, '.mlops', 'config'), 'utf8'), config);
    assert.deepEqual(readdirSync(join(dir, '.mlops')).sort(), ['config']);
  });
}

test('config outside an initialized project: exit 2 with a hint to run init', async (t) => {
  const dir = tempDir(t);
  gitInit(dir);
  const r = await runMlops(['config', 'tracking.uri', 'x'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: no \.mlops\/ in .*: run 'mlops init' first\n$/);
  assert.equal(existsSync(join(dir, '.mlops')), false);
});

test('an unknown tracking URI scheme from the environment names the URI', async (t) => {
  const dir = tempDir(t);
  const r = await runMlops(['runs', 'list'], { cwd: dir, env: { MLOPS_TRACKING_URI: 'mysql://db/runs' } });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "error: tracking store URI 'mysql://db/runs': unsupported scheme 'mysql:' (supported: file:, sqlite:, postgresql:, postgres: or a plain path)\n");
});
