import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readJsonFile, writeJsonFile } from '../src/core/big-json.js';

// A model file larger than one JavaScript string is written and read tree by tree. The limit is
// lowered here so a small document takes the same path a 600 MB forest does.

const doc = {
  format: 'x/1',
  features: ['a', 'quote " and \\ backslash', '"trees":[', 'ünï'],
  model: { n_classes: 3, trees: [{ feature: 'AAAA', threshold: 'BBBB', nested: [1, [2, { trees: [] }]] }, { feature: '"]}', threshold: '' }, { feature: 'x', threshold: 'y' }] },
  after: { trees: 'not this one' },
};

test('the text written is JSON.stringify\'s, and reading it back element by element gives the document', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-big-json-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'model.json');
  await writeJsonFile(path, doc, ['model', 'trees']);
  assert.equal(readFileSync(path, 'utf8'), JSON.stringify(doc) + '\n');
  assert.deepEqual(await readJsonFile(path, ['model', 'trees'], 10), doc);
  assert.deepEqual(await readJsonFile(path, ['model', 'trees']), doc);
});

test('a document without the array is written whole; bad JSON is a SyntaxError on either path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-big-json-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'model.json');
  await writeJsonFile(path, { model: { kind: 'other' } }, ['model', 'trees']);
  assert.equal(readFileSync(path, 'utf8'), '{"model":{"kind":"other"}}\n');
  await assert.rejects(readJsonFile(path, ['model', 'trees'], 5), SyntaxError);
  writeFileSync(path, '{"model":{"trees":[{"a":1},{"b":"unterminated}]}}');
  await assert.rejects(readJsonFile(path, ['model', 'trees'], 5), SyntaxError);
  await assert.rejects(readJsonFile(path, ['model', 'trees']), SyntaxError);
});
