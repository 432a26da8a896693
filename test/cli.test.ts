import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { MLOPS_BIN, runMlops, tempDir, writeFiles } from './helpers.js';

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

test('output cut short by a closed pipe (`| head`) ends quietly with exit 0', async (t) => {
  const dir = tempDir(t);
  const items = Array.from({ length: 3000 }, (_, i) => `s${i}`).join(', ');
  writeFiles(dir, { 'pipeline.yaml': `stages:\n  build:\n    foreach: [${items}]\n    do:\n      cmd: echo \${item}\n` });
  const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${MLOPS_BIN}" stages --json | head -c 10`], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.stdout, '{\n  "stage');
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
});
