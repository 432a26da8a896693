// Issue 9.16 (first two points): files the tool cannot change are one clear line, never a stack trace.
// Immutability needs root (chattr +i); as another user, or on a file system without it, the tests skip.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runMlops, tempDir, writeFiles } from './helpers.js';

/** Runs `body` while `path` is immutable (undone before the temp folder is removed); false when this machine cannot. */
async function whileImmutable(path: string, body: () => Promise<void>): Promise<boolean> {
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
  } catch {
    return false;
  }
  try {
    await body();
  } finally {
    execFileSync('chattr', ['-i', path], { stdio: 'ignore' });
  }
  return true;
}

const NO_CHATTR = 'chattr +i is not available (needs root and a file system that supports it)';

const PIPELINE = 'stages:\n  s:\n    cmd: mkdir -p d && cp in.txt d/f.txt\n    deps: [in.txt]\n    outs: [d]\n';

async function ranOnce(t: { after(fn: () => void): void }): Promise<string> {
  const dir = tempDir(t);
  writeFiles(dir, { 'in.txt': '1\n', 'pipeline.yaml': PIPELINE });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  writeFileSync(join(dir, 'in.txt'), '2\n');
  return dir;
}

test('an immutable output folder fails its stage with one line, not internal error: ENOTDIR', async (t) => {
  const dir = await ranOnce(t);
  const done = await whileImmutable(join(dir, 'd'), async () => {
    const r = await runMlops(['repro'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /s: failed: could not remove the old output 'd' before running \(\w+\): is it read-only or immutable\?/);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  });
  if (!done) t.skip(NO_CHATTR);
});

test('a read-only .mlops is one error line naming the file, not an EPERM stack trace', async (t) => {
  const dir = await ranOnce(t);
  const done = await whileImmutable(join(dir, '.mlops'), async () => {
    for (const args of [['repro'], ['status'], ['checkout'], ['gc', '-f']]) {
      const r = await runMlops(args, { cwd: dir });
      assert.equal(r.code, 1, `${args}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^error: [^\n]*\.mlops\/[^\n]*(EPERM|EACCES|operation not permitted|permission denied)[^\n]*\n$|^error: E(PERM|ACCES): [^\n]*\.mlops\/[^\n]*\n$/, args.join(' '));
    }
  });
  if (!done) t.skip(NO_CHATTR);
});

test('broken and looping symlinks in a dep or output folder: one located line, exit 2; other links count as their targets (issue 9.7)', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'd/a.txt': 'a\n',
    'e/b.txt': 'b\n',
    'pipeline.yaml': 'stages:\n  s:\n    cmd: mkdir -p out && ls -L d > out/list.txt\n    deps: [d]\n    outs: [out]\n',
  });
  symlinkSync('a.txt', join(dir, 'd/alias.txt'));
  symlinkSync('../e', join(dir, 'd/e'));
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  writeFileSync(join(dir, 'e/b.txt'), 'changed\n');
  assert.match((await runMlops(['status'], { cwd: dir })).stdout, /dep 'd' modified/, 'a change behind a folder link is seen');

  const cases: [string, string, RegExp][] = [
    ['d/broken', 'nowhere', /^error: d\/broken: a broken symlink \(to 'nowhere'\)\n$/],
    ['d/self', 'self', /^error: d\/self: a broken symlink \(to 'self'\)\n$/],
    ['d/up', '..', /^error: d\/up: a symlink to '[^']+', a folder that contains it: following it would loop\n$/],
    ['e/back', '../d', /^error: d\/e\/back: a symlink to '[^']+', a folder that contains it: following it would loop\n$/],
    ['out/up', '..', /^error: out\/up: a symlink to '[^']+', a folder that contains it: following it would loop\n$/],
  ];
  for (const [link, target, message] of cases) {
    symlinkSync(target, join(dir, link));
    for (const command of ['status', 'repro']) {
      const r = await runMlops([command], { cwd: dir });
      assert.equal(r.code, 2, `${command} with ${link}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, `${command} with ${link}`);
    }
    unlinkSync(join(dir, link));
  }
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
});

test('temp files of killed writers are cleaned: beside an output by checkout and repro, in the cache by gc (issue 9.11)', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'in.txt': 'x\n', 'pipeline.yaml': 'stages:\n  s:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n' });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  const dead = execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).trim(); // exited
  const objectDir = join(dir, '.mlops/cache/files/md5', readdirSync(join(dir, '.mlops/cache/files/md5'))[0]!);
  const planted = {
    workspace: join(dir, `out.txt.tmp-${dead}-0badf00d`),
    object: join(objectDir, `${'0'.repeat(30)}.tmp-${dead}-0badf00d`),
    state: join(dir, `.mlops/state-roots.json.tmp-${dead}-0badf00d`),
    live: join(objectDir, `${'1'.repeat(30)}.tmp-${process.pid}-0badf00d`), // its writer still runs: kept
  };
  for (const path of Object.values(planted)) {
    writeFileSync(path, 'half-written');
    chmodSync(path, 0o444);
  }
  rmSync(join(dir, 'out.txt'));
  assert.equal((await runMlops(['checkout'], { cwd: dir })).code, 0);
  assert.ok(!existsSync(planted.workspace), 'checkout removes the half-copied output');

  const dry = await runMlops(['gc', '--dry'], { cwd: dir });
  assert.match(dry.stdout, /would remove \.mlops\/cache\/files\/md5\/.*\.tmp-\d+-0badf00d\n/);
  assert.ok(existsSync(planted.object));
  assert.equal((await runMlops(['gc', '-f'], { cwd: dir })).code, 0);
  assert.ok(!existsSync(planted.object) && !existsSync(planted.state), 'gc removes stale temps in .mlops');
  assert.ok(existsSync(planted.live), "a live writer's temp file stays");

  writeFileSync(planted.workspace, 'half-written');
  writeFileSync(join(dir, 'in.txt'), 'y\n');
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  assert.ok(!existsSync(planted.workspace), 'repro removes it before the stage writes its output');
});
