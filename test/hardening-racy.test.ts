// Issue 9.6: on a file system with 1-second timestamps, an edit in the same second as the last hash
// leaves the stat unchanged. Tested on a real one: a loop-mounted ext4 with 128-byte inodes (which
// have no sub-second timestamps). Mounting needs root; otherwise the tests skip and say why.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { md5Text } from '../src/cache/hash.js';
import { StateStore } from '../src/cache/state.js';
import { hashPath } from '../src/cache/tree.js';
import { runMlops, writeFiles } from './helpers.js';

/** A fresh coarse-timestamp file system mounted for the test, or why there is none. */
function coarseFs(t: { after(fn: () => void): void }): string | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'not root: cannot loop-mount a coarse-timestamp file system' };
  const base = mkdtempSync(join(tmpdir(), 'mlops-racy-'));
  const image = join(base, 'fs.img');
  const mnt = join(base, 'mnt');
  let mounted = false;
  t.after(() => {
    if (mounted) execFileSync('umount', [mnt], { stdio: 'ignore' });
    rmSync(base, { recursive: true, force: true });
  });
  try {
    mkdirSync(mnt);
    execFileSync('truncate', ['-s', '16M', image]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-I', '128', image], { stdio: 'ignore' });
    execFileSync('mount', ['-o', 'loop', image, mnt], { stdio: 'ignore' });
    mounted = true;
  } catch (error) {
    return { skip: `could not loop-mount an ext4 image (${(error as Error).message.split('\n')[0]})` };
  }
  writeFileSync(join(mnt, 'probe'), '');
  if (statSync(join(mnt, 'probe')).mtimeMs % 1000 !== 0) return { skip: 'the mounted file system keeps sub-second timestamps' };
  return mnt;
}

/** Waits for the start of the next wall-clock second, so what follows shares one timestamp. */
async function nextSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
}

test('a same-second, same-size edit after a hash is seen: the stat of a fresh file is not trusted', async (t) => {
  const mnt = coarseFs(t);
  if (typeof mnt !== 'string') return t.skip(mnt.skip);
  const file = join(mnt, 'data.txt');
  for (let i = 0; i < 5; i++) {
    await nextSecond();
    writeFileSync(file, `v${i}a`);
    const state = StateStore.load(join(mnt, '.mlops'));
    assert.equal((await hashPath(file, state))?.info.md5, md5Text(`v${i}a`));
    await state.save();
    writeFileSync(file, `v${i}b`); // same second, same size, same inode: only the content differs
    assert.equal((await hashPath(file, StateStore.load(join(mnt, '.mlops'))))?.info.md5, md5Text(`v${i}b`), `try ${i}`);
  }
});

test('on a coarse file system, repro then a same-second edit of a dep or of params.yaml: status sees both', async (t) => {
  const mnt = coarseFs(t);
  if (typeof mnt !== 'string') return t.skip(mnt.skip);
  writeFiles(mnt, {
    'params.yaml': 'lr: 1\n',
    'pipeline.yaml': 'stages:\n  s:\n    cmd: cp in.txt out.txt\n    deps: [in.txt, d]\n    params: [lr]\n    outs: [out.txt]\n',
  });
  const edit = (rel: string, content: string) => {
    // What an edit in the same second as the last write leaves behind here: the same mtime.
    const { atime, mtime } = statSync(join(mnt, rel));
    writeFileSync(join(mnt, rel), content);
    utimesSync(join(mnt, rel), atime, mtime);
  };
  for (let i = 0; i < 2; i++) {
    writeFiles(mnt, { 'in.txt': `${i}a\n`, 'd/f.txt': `${i}a\n` });
    assert.equal((await runMlops(['repro'], { cwd: mnt })).code, 0);
    assert.match((await runMlops(['status'], { cwd: mnt })).stdout, /up to date/);
    edit('in.txt', `${i}b\n`);
    edit('d/f.txt', `${i}b\n`);
    edit('params.yaml', `lr: ${i + 2}\n`);
    const status = (await runMlops(['status'], { cwd: mnt })).stdout;
    for (const change of [/dep 'in\.txt' modified/, /dep 'd' modified/, /param params\.yaml:lr/]) assert.match(status, change, `try ${i}: ${status}`);
  }
});
