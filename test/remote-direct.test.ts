import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DIRECT_ALIGN, DirectFile, pageAligned } from '../src/remote/direct.js';
import { tempDir } from './helpers.js';

// This machine's temp folder is on ext4, where a DirectFile opens its direct handle.
const localDisk = (dir: string) => [0xef53, 0x58465342, 0x9123683e].includes(statfsSync(dir).type);

test('DirectFile: aligned blocks go direct, an unaligned tail and a refused block go through the page cache, and the file is whole', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'file');
  const file = await DirectFile.create(path, 0o644);
  assert.equal(file.isDirect, localDisk(dir));
  const data = randomBytes(3 * DIRECT_ALIGN + 100);
  const aligned = pageAligned(2 * DIRECT_ALIGN);
  data.copy(aligned, 0, 0, 2 * DIRECT_ALIGN);
  await file.run(2 * DIRECT_ALIGN, 0, (h) => h.write(aligned, 0, 2 * DIRECT_ALIGN, 0));
  assert.equal(file.isDirect, localDisk(dir)); // taken direct
  // A buffer that does not start on a page: O_DIRECT refuses it (EINVAL), the block goes buffered, and so does everything after.
  const unaligned = Buffer.alloc(DIRECT_ALIGN + 1).subarray(1);
  data.copy(unaligned, 0, 2 * DIRECT_ALIGN, 3 * DIRECT_ALIGN);
  await file.run(DIRECT_ALIGN, 2 * DIRECT_ALIGN, (h) => h.write(unaligned, 0, DIRECT_ALIGN, 2 * DIRECT_ALIGN));
  assert.equal(file.isDirect, false);
  const tail = data.subarray(3 * DIRECT_ALIGN);
  await file.run(tail.length, 3 * DIRECT_ALIGN, (h) => h.write(tail, 0, tail.length, 3 * DIRECT_ALIGN));
  await file.close();
  assert.ok(readFileSync(path).equals(data));

  // Read back: aligned ranges direct (into an aligned buffer), the tail buffered.
  const back = await DirectFile.read(path);
  t.after(() => back.close());
  const into = pageAligned(DIRECT_ALIGN * 4);
  const { bytesRead } = await back.run(3 * DIRECT_ALIGN, 0, (h) => h.read(into, 0, 3 * DIRECT_ALIGN, 0));
  assert.equal(bytesRead, 3 * DIRECT_ALIGN);
  assert.equal(back.isDirect, localDisk(dir));
  assert.ok(into.subarray(0, bytesRead).equals(data.subarray(0, bytesRead)));
  const rest = await back.run(100, 3 * DIRECT_ALIGN, (h) => h.read(into, 0, 100, 3 * DIRECT_ALIGN));
  assert.ok(into.subarray(0, rest.bytesRead).equals(tail));
});

test('pageAligned: a buffer O_DIRECT takes, zeroed, its size rounded up to 64 KiB', () => {
  const buffer = pageAligned(100_000);
  assert.equal(buffer.length, 128 * 1024);
  assert.equal(buffer.byteOffset, 0);
  assert.ok(buffer.every((b) => b === 0));
});
