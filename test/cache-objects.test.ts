import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { md5File, md5Text } from '../src/cache/hash.js';
import { CorruptObjectError, LocalObjectStore } from '../src/cache/odb.js';
import { StateStore } from '../src/cache/state.js';
import { hashPath, manifestJson } from '../src/cache/tree.js';
import { statSignature } from '../src/core/signature.js';
import { tempDir, writeFiles } from './helpers.js';

test('file hashes equal md5sum, for small files and files larger than one read buffer', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'small'), 'hello\n');
  writeFileSync(join(dir, 'large'), Buffer.alloc(9 * 1024 * 1024 + 7, 'x'));
  for (const name of ['small', 'large']) {
    const expected = execFileSync('md5sum', [join(dir, name)], { encoding: 'utf8' }).split(' ')[0];
    assert.equal(await md5File(join(dir, name), name === 'small' ? 6 : Infinity), expected);
  }
});

test("the directory manifest is byte-for-byte Python's json.dumps, so .dir hashes match DVC's", () => {
  const entries = [
    { md5: 'd41d8cd98f00b204e9800998ecf8427e', relpath: 'a/b.txt' },
    { md5: '0cc175b9c0f1b6a831c399e269772661', relpath: 'été.csv' },
  ];
  // Reference produced by python3: json.dumps(entries, sort_keys=True), then hashlib.md5.
  assert.equal(
    manifestJson(entries),
    '[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a/b.txt"}, {"md5": "0cc175b9c0f1b6a831c399e269772661", "relpath": "\\u00e9t\\u00e9.csv"}]',
  );
  assert.equal(md5Text(manifestJson(entries)), 'df9b05dc7ae4e0a2023d55108dacf3b2');
});

test('a directory hashes through its sorted manifest; sizes and file counts add up', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'd/b.txt': 'bb', 'd/a.txt': 'a', 'd/sub/c.txt': 'ccc' });
  const hashed = await hashPath(join(dir, 'd'), StateStore.load(join(dir, '.mlops')));
  assert.ok(hashed?.entries);
  assert.deepEqual(hashed.entries.map((e) => e.relpath), ['a.txt', 'b.txt', 'sub/c.txt']);
  assert.equal(hashed.info.size, 6);
  assert.equal(hashed.info.nfiles, 3);
  assert.equal(hashed.info.md5, `${md5Text(manifestJson(hashed.entries))}.dir`);
  assert.equal(hashed.entries[0]!.md5, md5Text('a'));
});

test('the state store answers for a file whose inode, mtime, ctime and size are unchanged, and only then', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'f.txt');
  writeFileSync(file, 'one');
  utimesSync(file, 1_000_000, 1_000_000); // whole seconds, so the same mtime can be set again exactly
  const state = StateStore.load(join(dir, '.mlops'));
  assert.equal((await hashPath(file, state))?.info.md5, md5Text('one'));
  // A hash recorded for exactly this stat is answered without reading the file.
  state.recordRoot(file, statSignature(statSync(file)), { md5: 'from the store', size: 3 }, true);
  await state.save();
  const reloaded = StateStore.load(join(dir, '.mlops'));
  assert.equal((await hashPath(file, reloaded))?.info.md5, 'from the store');
  // Same inode, same size, mtime put back: the write still moved the ctime, so the file is read again.
  writeFileSync(file, 'ONE');
  utimesSync(file, 1_000_000, 1_000_000);
  assert.equal((await hashPath(file, reloaded))?.info.md5, md5Text('ONE'));
});

test('objects are stored under files/md5/ab/cdef, read-only, and checked out as editable copies', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'out/x.txt': 'x', 'out/y/z.txt': 'z' });
  const odb = new LocalObjectStore(join(dir, 'cache'));
  const hashed = (await hashPath(join(dir, 'out'), StateStore.load(join(dir, '.mlops'))))!;
  await odb.add(join(dir, 'out'), hashed);
  const xObject = join(dir, 'cache', 'files', 'md5', md5Text('x').slice(0, 2), md5Text('x').slice(2));
  assert.equal(readFileSync(xObject, 'utf8'), 'x');
  assert.ok(odb.hasComplete(hashed.info.md5));
  assert.equal(odb.list().length, 3); // two files and the manifest

  const written = await odb.checkout(hashed.info.md5, join(dir, 'restored'));
  assert.equal(written.length, 2);
  assert.equal(readFileSync(join(dir, 'restored', 'y', 'z.txt'), 'utf8'), 'z');
  writeFileSync(join(dir, 'restored', 'x.txt'), 'edited'); // the workspace copy is writable
  assert.equal(readFileSync(xObject, 'utf8'), 'x'); // and not linked to the cache
});

test('a copy offered for an output is renamed into place by its checkout; one for other content, or not taken, is removed', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'model.bin': 'weights', 'copy.tmp': 'weights', 'stale.tmp': 'other', 'unused.tmp': 'weights' });
  const odb = new LocalObjectStore(join(dir, 'cache'));
  const hashed = (await hashPath(join(dir, 'model.bin'), StateStore.load(join(dir, '.mlops'))))!;
  await odb.add(join(dir, 'model.bin'), hashed);
  const { md5 } = hashed.info;
  const inode = statSync(join(dir, 'copy.tmp')).ino;
  odb.offerCopy(join(dir, 'out', 'a.bin'), md5, join(dir, 'copy.tmp'));
  writeFiles(dir, { 'out/keep': '' });
  await odb.checkout(md5, join(dir, 'out', 'a.bin'));
  assert.equal(statSync(join(dir, 'out', 'a.bin')).ino, inode, 'renamed, not copied');
  assert.equal(readFileSync(join(dir, 'out', 'a.bin'), 'utf8'), 'weights');

  odb.offerCopy(join(dir, 'b.bin'), md5Text('other'), join(dir, 'stale.tmp'));
  await odb.checkout(md5, join(dir, 'b.bin'));
  assert.equal(readFileSync(join(dir, 'b.bin'), 'utf8'), 'weights');
  assert.ok(!existsSync(join(dir, 'stale.tmp')));

  odb.offerCopy(join(dir, 'c.bin'), md5, join(dir, 'unused.tmp'));
  await odb.dropCopies();
  assert.ok(!existsSync(join(dir, 'unused.tmp')));
  await odb.checkout(md5, join(dir, 'c.bin')); // copied from the object: the offer is gone
  assert.equal(readFileSync(join(dir, 'c.bin'), 'utf8'), 'weights');
});

test('checkout refuses a corrupted object and leaves the workspace as it was', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'model.bin': 'weights' });
  const odb = new LocalObjectStore(join(dir, 'cache'));
  const hashed = (await hashPath(join(dir, 'model.bin'), StateStore.load(join(dir, '.mlops'))))!;
  await odb.add(join(dir, 'model.bin'), hashed);
  const object = odb.pathOf(hashed.info.md5);
  chmodSync(object, 0o644);
  writeFileSync(object, 'tampered');
  writeFileSync(join(dir, 'model.bin'), 'current');
  await assert.rejects(odb.checkout(hashed.info.md5, join(dir, 'model.bin')), CorruptObjectError);
  assert.equal(readFileSync(join(dir, 'model.bin'), 'utf8'), 'current');
});

test('a folder is walked in manifest order, and its state file answers for it until a file changes', async (t) => {
  const dir = tempDir(t);
  // `a.txt` < `a/b` < `a-b`? As paths: '-' (0x2d) < '.' (0x2e) < '/' (0x2f), so a-b, a.txt, a/b.
  // Names with a tab, a newline and a backslash survive the state file's lines.
  const files = { 'd/a/b': '1', 'd/a.txt': '2', 'd/a-b': '3', 'd/tab\there': '4', 'd/new\nline': '5', 'd/back\\slash': '6' };
  writeFiles(dir, files);
  await sleep(2100); // a stat is trusted once the file's ctime is 2 s old (the racy-clean rule)
  const state = () => StateStore.load(join(dir, '.mlops'));
  const hashed = (await hashPath(join(dir, 'd'), state()))!;
  const expected = Object.keys(files).map((f) => f.slice(2)).sort();
  assert.deepEqual(hashed.entries!.map((e) => e.relpath), expected);
  assert.equal(hashed.info.md5, `${md5Text(manifestJson(hashed.entries!))}.dir`);

  // Unchanged: answered from the state file, whose recorded hash is trusted as it stands.
  const statePath = state().dirStatePath(join(dir, 'd'));
  const recorded = readFileSync(statePath, 'utf8');
  writeFileSync(statePath, recorded.replace(hashed.info.md5, 'recorded.dir'));
  assert.equal((await hashPath(join(dir, 'd'), state(), { entries: false }))!.info.md5, 'recorded.dir');
  // One file edited: the folder is hashed again, reading only that file, and the state follows.
  writeFileSync(join(dir, 'd/a.txt'), 'two');
  const edited = (await hashPath(join(dir, 'd'), state(), { entries: false }))!;
  assert.notEqual(edited.info.md5, hashed.info.md5);
  const entries = expected.map((relpath) => ({ relpath, md5: md5Text(relpath === 'a.txt' ? 'two' : files[`d/${relpath}` as keyof typeof files]) }));
  assert.equal(edited.info.md5, `${md5Text(manifestJson(entries))}.dir`);
  assert.equal((await hashPath(join(dir, 'd'), state(), { entries: false }))!.info.md5, edited.info.md5);
  // A damaged state file costs a re-hash, never a wrong answer.
  writeFileSync(statePath, 'mlops-dir-state 1\nd/a.txt\tgarbage');
  assert.equal((await hashPath(join(dir, 'd'), state(), { entries: false }))!.info.md5, edited.info.md5);
});
