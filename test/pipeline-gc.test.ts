// gc as DVC does it: asks on a terminal (a real pseudo-terminal here, through script(1)), -f skips
// the question, no terminal and no -f is refused; objects recorded by experiments are kept.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MLOPS_BIN, runMlops, tempDir, writeFiles } from './helpers.js';

const objects = (dir: string) => readdirSync(join(dir, '.mlops/cache/files/md5'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

/** Runs `mlops gc` on a pseudo-terminal, typing `answer` when asked. */
function gcOnTerminal(dir: string, answer: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', `${process.execPath} ${MLOPS_BIN} gc`, '/dev/null'], { cwd: dir, env: { ...process.env, MLOPS_ROOT: '' } });
    let output = '';
    let answered = false;
    child.stdin.on('error', () => undefined); // the terminal may be gone by the time it is read
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (!answered && output.includes('[y/n]')) {
        answered = true;
        child.stdin.write(`${answer}\n`);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

/** A project with one cached object no lock references any more. */
async function withGarbage(t: { after(fn: () => void): void }): Promise<string> {
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': 'v: 1\n', 'dvc.yaml': 'stages:\n  s:\n    cmd: echo ${v} > out.txt\n    outs: [out.txt]\n' });
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  writeFileSync(join(dir, 'params.yaml'), 'v: 2\n');
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  assert.equal(objects(dir), 2);
  return dir;
}

test('gc without a terminal and without -f is refused (exit 2), removing nothing; -f removes', async (t) => {
  const dir = await withGarbage(t);
  const r = await runMlops(['gc'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'error: gc removes cache objects and needs a confirmation: run it on a terminal, or pass -f/--force\n');
  assert.equal(objects(dir), 2);
  assert.equal((await runMlops(['gc', '-f'], { cwd: dir })).code, 0);
  assert.equal(objects(dir), 1);
});

test('gc on a terminal asks DVC\'s question: n keeps everything, y collects', async (t) => {
  const dir = await withGarbage(t);
  const no = await gcOnTerminal(dir, 'n');
  assert.match(no.output, /WARNING: This will remove all cache except items used in the workspace of the current repo\.[\s\S]*Are you sure you want to proceed\? \[y\/n\]/);
  assert.equal(no.code, 2);
  assert.equal(objects(dir), 2);
  const yes = await gcOnTerminal(dir, 'y');
  assert.equal(yes.code, 0, yes.output);
  assert.match(yes.output, /1 object\(s\) removed/);
  assert.equal(objects(dir), 1);
});

test("gc keeps the objects of recorded experiments' outputs unless told --no-experiments", async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': 'v: 1\n', 'dvc.yaml': 'stages:\n  s:\n    cmd: echo ${v} > model.bin\n    params: [v]\n    outs: [model.bin]\n' });
  const exp = await runMlops(['exp', 'run', '-n', 'first'], { cwd: dir });
  assert.equal(exp.code, 0, exp.stderr);
  writeFileSync(join(dir, 'params.yaml'), 'v: 2\n');
  assert.equal((await runMlops(['repro'], { cwd: dir })).code, 0);
  const kept = await runMlops(['gc', '-f', '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(kept.stdout).removed, []);
  const asked = await runMlops(['gc', '-f', '--no-experiments', '--json'], { cwd: dir });
  assert.equal(JSON.parse(asked.stdout).removed.length, 1);
  assert.equal(objects(dir), 1);
});
