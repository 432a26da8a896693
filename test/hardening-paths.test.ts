// Issue 9.3: no path read from a file we did not just write (a lock, a `.dir` manifest, a run-cache
// entry, a run folder, a top-level plot) may make us read or write outside the project or the store.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { insideOf } from '../src/core/files.js';
import { runMlops, tempDir, writeFiles } from './helpers.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** Stores `text` as a cache object under its true name, as a crafted project would. */
function plantObject(project: string, name: string, text: string): void {
  const path = join(project, '.mlops/cache/files/md5', name.slice(0, 2), name.slice(2));
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

const DIR_PIPELINE = 'stages:\n  s:\n    cmd: mkdir -p d && cp in.txt d/f.txt\n    deps: [in.txt]\n    outs: [d]\n';

test('checkout refuses a .dir manifest whose relpath leaves the output, however it is spelt', async (t) => {
  const base = tempDir(t);
  const project = join(base, 'sub', 'project');
  writeFiles(project, { 'in.txt': 'payload\n', 'pipeline.yaml': DIR_PIPELINE });
  assert.equal((await runMlops(['repro'], { cwd: project })).code, 0);
  const fileMd5 = md5('payload\n');
  const lockPath = join(project, 'pipeline.lock');
  const lock = readFileSync(lockPath, 'utf8');
  const oldDir = /md5: ([0-9a-f]{32}\.dir)/.exec(lock.split('outs:')[1]!)![1]!;
  for (const relpath of ['../../escaped.txt', '/tmp/escaped-abs.txt', 'a/../../escaped.txt', '..\\\\escaped.txt', './f.txt', 'a//b']) {
    const manifest = `[{"md5": "${fileMd5}", "relpath": ${JSON.stringify(relpath)}}]`;
    const name = `${md5(manifest)}.dir`;
    plantObject(project, name, manifest);
    writeFileSync(lockPath, lock.replaceAll(oldDir, name));
    const r = await runMlops(['checkout'], { cwd: project });
    assert.equal(r.code === 0, false, `${relpath}: ${r.stdout}`);
    assert.match(r.stderr, /unsafe path/, relpath);
    assert.doesNotMatch(r.stderr, /\n\s+at /, relpath);
  }
  assert.ok(!existsSync(join(base, 'sub', 'escaped.txt')));
  assert.ok(!existsSync(join(base, 'escaped.txt')));
  assert.ok(!existsSync('/tmp/escaped-abs.txt'));
});

test('an object name in the lock that is not an md5 never reads outside the store', async (t) => {
  const project = tempDir(t);
  writeFiles(project, { 'secret.txt': 'secret\n', 'in.txt': 'x\n', 'pipeline.yaml': 'stages:\n  s:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n' });
  assert.equal((await runMlops(['repro'], { cwd: project })).code, 0);
  const lockPath = join(project, 'pipeline.lock');
  const lock = readFileSync(lockPath, 'utf8');
  // `<cache>/files/md5/../../../../secret.txt`: the store's layout joined with a crafted name.
  writeFileSync(lockPath, lock.replace(/(outs:\n\s+- path: out\.txt\n\s+hash: md5\n\s+md5: )[0-9a-f]+/, '$1../../../../secret.txt'));
  const r = await runMlops(['checkout'], { cwd: project });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /not a cache object name/);
  assert.equal(readFileSync(join(project, 'out.txt'), 'utf8'), 'x\n');
  const status = await runMlops(['status'], { cwd: project });
  assert.ok([0, 1].includes(status.code), status.stderr);
  assert.doesNotMatch(status.stderr, /\n\s+at /);
});

test('the run-cache never restores through a crafted manifest', async (t) => {
  const base = tempDir(t);
  const project = join(base, 'p');
  writeFiles(project, { 'in.txt': 'one\n', 'pipeline.yaml': DIR_PIPELINE });
  await runMlops(['repro'], { cwd: project });
  writeFileSync(join(project, 'in.txt'), 'two\n');
  await runMlops(['repro'], { cwd: project });
  // Point every run-cache entry at a manifest that writes beside the project, then go back to 'one'.
  const manifest = `[{"md5": "${md5('one\n')}", "relpath": "../../outside.txt"}]`;
  const name = `${md5(manifest)}.dir`;
  plantObject(project, name, manifest);
  const runs = join(project, '.mlops/cache/runs');
  for (const prefix of readdirNames(runs)) {
    for (const key of readdirNames(join(runs, prefix))) {
      for (const entry of readdirNames(join(runs, prefix, key))) {
        writeFileSync(join(runs, prefix, key, entry), JSON.stringify({ outs: [{ path: 'd', hash: 'md5', md5: name, size: 4, nfiles: 1 }] }));
      }
    }
  }
  writeFileSync(join(project, 'in.txt'), 'one\n');
  const r = await runMlops(['repro'], { cwd: project });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /s: running/);
  assert.ok(!existsSync(join(base, 'outside.txt')));
  assert.equal(readFileSync(join(project, 'd/f.txt'), 'utf8'), 'one\n');
});

function readdirNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

test('top-level plots may not embed a file from outside the project, however they name it', async (t) => {
  const base = tempDir(t);
  const project = join(base, 'p');
  writeFiles(base, { 'secret.csv': 'a,b\n1,31337\n2,31338\n' });
  writeFiles(project, { 'pipeline.yaml': 'plots:\n  - ../secret.csv\n' });
  const plain = await runMlops(['plots', 'show'], { cwd: project });
  assert.equal(plain.code, 2, plain.stderr);
  assert.match(plain.stderr, /pipeline\.yaml:2: 'plots\.0': '\.\.\/secret\.csv' is outside the project/);
  assert.ok(!existsSync(join(project, 'mlops_plots')));

  symlinkSync(base, join(project, 'up'));
  writeFiles(project, {
    'pipeline.yaml': 'plots:\n  - ../secret.csv: {x: a, y: b}\n  - chart: {x: a, y: {../secret.csv: b}}\n  - up/secret.csv\n',
  });
  const r = await runMlops(['plots', 'show'], { cwd: project });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.match(/outside the project/g)?.length, 3, r.stderr);
  assert.doesNotMatch(readFileSync(join(project, 'mlops_plots', 'index.html'), 'utf8'), /31337/);
});

test('a run folder that is a symlink out of mlruns/ is neither shown nor deleted through', async (t) => {
  const base = tempDir(t);
  const project = join(base, 'p');
  const runId = 'a'.repeat(32);
  const meta = `artifact_uri: x\nend_time: 2\nentry_point_name: ''\nexperiment_id: '0'\nlifecycle_stage: active\nrun_id: ${runId}\nrun_name: outside\nrun_uuid: ${runId}\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 1\nstatus: 3\ntags: []\nuser_id: u\n`;
  writeFiles(base, { [`outside/${runId}/meta.yaml`]: meta, [`outside/${runId}/params/secret`]: 'hunter2' });
  writeFiles(project, { 'mlruns/0/meta.yaml': "artifact_location: x\nexperiment_id: '0'\nlifecycle_stage: active\nname: Default\n" });
  symlinkSync(join(base, 'outside', runId), join(project, 'mlruns/0', runId));
  const show = await runMlops(['runs', 'show', runId], { cwd: project });
  assert.equal(show.code, 2, show.stdout);
  assert.doesNotMatch(show.stdout, /hunter2/);
  assert.match(show.stderr, /no run with id/);
  const del = await runMlops(['runs', 'delete', runId], { cwd: project });
  assert.equal(del.code, 2);
  assert.equal(readFileSync(join(base, 'outside', runId, 'meta.yaml'), 'utf8'), meta);
});

test('insideOf: a path at or under the base, in POSIX form; a name starting with .. is inside, ../ and absolute elsewhere are not', () => {
  const base = '/srv/project';
  assert.equal(insideOf(base, '/srv/project'), '');
  assert.equal(insideOf(base, 'models/model.json'), 'models/model.json');
  assert.equal(insideOf(base, '/srv/project/..model.json'), '..model.json');
  assert.equal(insideOf(base, '..data/raw.csv'), '..data/raw.csv');
  assert.equal(insideOf(base, '../other/x'), undefined);
  assert.equal(insideOf(base, '..'), undefined);
  assert.equal(insideOf(base, '/srv/project-2/x'), undefined);
  assert.equal(insideOf(base, '/etc/passwd'), undefined);
  assert.equal(insideOf(base, 'a/../../x'), undefined);
});
