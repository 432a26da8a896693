// Issue 9.16 (first two points): files the tool cannot change are one clear line, never a stack trace.
// Immutability needs root (chattr +i); as another user, or on a file system without it, the tests skip.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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
    for (const args of [['repro'], ['status'], ['checkout'], ['gc']]) {
      const r = await runMlops(args, { cwd: dir });
      assert.equal(r.code, 1, `${args}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^error: E(PERM|ACCES): [^\n]*\.mlops\/[^\n]*\n$/, args.join(' '));
    }
  });
  if (!done) t.skip(NO_CHATTR);
});
