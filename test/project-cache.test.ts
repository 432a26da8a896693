import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { gitInit, runMlops, tempDir, writeFiles } from './helpers.js';

// Where the cache lives: DVC's in a DVC repository (so both tools share every object), else
// .mlops/cache, movable by cache.dir. Real git repositories, the real CLI.

const PIPELINE = 'stages:\n  make:\n    cmd: mkdir -p model && echo weights > model.bin && echo a > model/a.txt\n    outs: [model.bin, model]\n';

function objects(cache: string): string[] {
  const dir = join(cache, 'files', 'md5');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((prefix) => readdirSync(join(dir, prefix)).map((rest) => prefix + rest));
}

/** The md5 of every output the lock file records. */
function lockedMd5(dir: string, file = 'dvc.lock'): string[] {
  const lock = parse(readFileSync(join(dir, file), 'utf8')) as { stages: Record<string, { outs: { md5: string }[] }> };
  return Object.values(lock.stages).flatMap((s) => s.outs.map((o) => o.md5));
}

test("a DVC repository with cache.dir in .dvc/config: repro stores objects in DVC's cache, checkout restores from it", async (t) => {
  const dir = tempDir(t);
  // As `dvc init` + `dvc cache dir ../shared-cache` leave it: the path is relative to .dvc/.
  writeFiles(dir, { '.dvc/config': "[core]\n    autostage = true\n[cache]\n    dir = ../shared-cache\n", '.dvc/.gitignore': '/config.local\n/tmp\n/cache\n', 'dvc.yaml': PIPELINE });
  gitInit(dir);
  writeFiles(dir, { 'sub/.keep': '' });
  const repro = await runMlops(['repro'], { cwd: join(dir, 'sub') });
  assert.equal(repro.code, 0, repro.stderr);
  const cache = join(dir, 'shared-cache');
  const stored = objects(cache);
  for (const md5 of lockedMd5(dir)) assert.ok(stored.includes(md5), `${md5} in DVC's cache`);
  assert.equal(stored.length, 3, 'model.bin, model/a.txt and the .dir manifest');
  assert.equal(existsSync(join(dir, '.dvc', 'cache')), false);
  assert.equal(existsSync(join(dir, '.mlops', 'cache')), false, 'no second copy');

  rmSync(join(dir, 'model.bin'));
  rmSync(join(dir, 'model'), { recursive: true });
  const checkout = await runMlops(['checkout'], { cwd: dir });
  assert.equal(checkout.code, 0, checkout.stderr);
  assert.equal(readFileSync(join(dir, 'model.bin'), 'utf8'), 'weights\n');
  assert.equal(readFileSync(join(dir, 'model', 'a.txt'), 'utf8'), 'a\n');

  // An object only a .dvc file references (dvc add) is in no lock file: gc must leave DVC's cache alone.
  writeFiles(cache, { 'files/md5/00/112233445566778899aabbccddeeff': 'added with dvc add\n' });
  const gc = await runMlops(['gc'], { cwd: dir });
  assert.equal(gc.code, 2);
  assert.equal(gc.stderr, "error: the cache is DVC's, shared with it: run 'dvc gc', which knows every object it references\n");
  assert.equal(objects(cache).length, 4);
});

test('.dvc/config.local overrides .dvc/config; without cache.dir a DVC repository uses .dvc/cache', async (t) => {
  const local = tempDir(t);
  writeFiles(local, { '.dvc/config': '[cache]\n    dir = ../a\n', '.dvc/config.local': `[cache]\n    dir = ${join(local, 'b')}\n`, 'dvc.yaml': PIPELINE });
  assert.equal((await runMlops(['repro'], { cwd: local })).code, 0);
  assert.equal(objects(join(local, 'b')).length, 3);
  assert.equal(existsSync(join(local, 'a')), false);

  const plain = tempDir(t);
  writeFiles(plain, { '.dvc/config': '', 'dvc.yaml': PIPELINE });
  assert.equal((await runMlops(['repro'], { cwd: plain })).code, 0);
  assert.equal(objects(join(plain, '.dvc', 'cache')).length, 3);
});

test('outside DVC: .mlops/cache, moved by cache.dir in .mlops/config (relative to .mlops/), created when missing', async (t) => {
  const dir = tempDir(t);
  // A dep, so the stage is one the run-cache records.
  const pipeline = PIPELINE.replace('    outs:', '    deps: [in.txt]\n    outs:');
  writeFiles(dir, { 'in.txt': 'x\n', '.mlops/config': '[cache]\n    dir = ../../elsewhere/cache\n', 'pipeline.yaml': pipeline });
  const r = await runMlops(['repro'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const cache = join(dir, '..', 'elsewhere', 'cache');
  t.after(() => rmSync(join(dir, '..', 'elsewhere'), { recursive: true, force: true }));
  for (const md5 of lockedMd5(dir, 'pipeline.lock')) assert.ok(objects(cache).includes(md5), `${md5} in the moved cache`);
  assert.equal(objects(cache).length, 3);
  assert.equal(existsSync(join(dir, '.mlops', 'cache')), false);
  assert.equal(existsSync(join(cache, 'runs')), true, 'the run-cache moves with the cache');
});

test('a cache.dir that cannot be a folder: exit 2, one line naming the config file, line and key; nothing run', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'blocker': 'a file, not a folder\n', '.mlops/config': '[cache]\n    dir = ../blocker/cache\n', 'pipeline.yaml': PIPELINE });
  const r = await runMlops(['repro'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "error: .mlops/config:2: 'cache.dir': blocker/cache: blocker is not a folder\n");
  assert.equal(existsSync(join(dir, 'model.bin')), false);
  assert.equal(existsSync(join(dir, 'pipeline.lock')), false);

  const dvc = tempDir(t);
  writeFiles(dvc, { 'blocker': 'x', '.dvc/config': '[cache]\n    dir = ../blocker\n', 'dvc.yaml': PIPELINE });
  const r2 = await runMlops(['status'], { cwd: dvc });
  assert.equal(r2.code, 2);
  assert.equal(r2.stderr, "error: .dvc/config:2: 'cache.dir': blocker: is not a folder\n");
});
