import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runMlops, tempDir } from './helpers.js';

test('--help lists the usage and exits 0', async (t) => {
  const r = await runMlops(['--help'], { cwd: tempDir(t) });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: mlops/);
});

test('an unknown command is a usage error: exit 2', async (t) => {
  const r = await runMlops(['no-such-command'], { cwd: tempDir(t) });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error/);
});
