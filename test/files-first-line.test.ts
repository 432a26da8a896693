import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readFirstLine } from '../src/core/files.js';

// A CSV's header read without its rows: across read chunks, without a line break, in UTF-8.
test('readFirstLine returns the text before the first line break, whatever the chunking', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-first-line-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.csv');
  const long = Array.from({ length: 20_000 }, (_, i) => `col_${i}_é`).join(',');
  writeFileSync(file, `${long}\n1,2\n3,4\n`);
  assert.equal(readFirstLine(file), long);
  writeFileSync(file, 'only,a,header');
  assert.equal(readFirstLine(file), 'only,a,header');
  writeFileSync(file, '');
  assert.equal(readFirstLine(file), '');
});
