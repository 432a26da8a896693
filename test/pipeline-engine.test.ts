// The engine in-process: repro() on a Project opened in the test, with a recording event sink and stage commands the test controls
// (each exits with the code written in a control file), across two pipeline files.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ExecutorEvent } from '../src/pipeline/events.js';
import { repro } from '../src/pipeline/repro.js';
import { Project } from '../src/project/project.js';
import { gitInit, tempDir, writeFiles } from './helpers.js';

/** A stage that writes its output, then exits with the code in `control/<name>`. */
const controlled = (name: string, dep: string | undefined, out: string) =>
  `  ${name}:\n    cmd: echo ${name} > ${out} && exit $(cat ${'../'.repeat(out.split('/').length - 1)}control/${name})\n${dep ? `    deps: [${dep}]\n` : ''}    outs: [${out}]\n`;

function project(t: { after(fn: () => void): void }): string {
  const dir = tempDir(t);
  writeFiles(dir, {
    'control/a': '0',
    'control/b': '0',
    'control/c': '0',
    'dvc.yaml': `stages:\n${controlled('a', undefined, 'a.txt')}${controlled('c', undefined, 'c.txt')}`,
    'sub/dvc.yaml': `stages:\n${controlled('b', '../a.txt', 'b.txt')}`,
  });
  gitInit(dir);
  return dir;
}

async function run(dir: string, options: Parameters<typeof repro>[1]) {
  const events: ExecutorEvent[] = [];
  const results = await repro(Project.open(dir, { cwd: options.cwd }), { stdio: 'pipe', ...options }, (e) => events.push(e));
  const summary = events.filter((e) => e.type !== 'stage-output').map((e) => `${e.type === 'stage-done' ? e.outcome : e.type} ${'stage' in e ? e.stage : ''}`);
  return { results: Object.fromEntries(results), summary, events };
}

test('repro() in-process: events in order, a failure skips what depends on it, --keep-going runs the rest, names from the cwd', async (t) => {
  const dir = project(t);
  const first = await run(dir, { cwd: dir, allPipelines: true });
  // DVC's order: depth-first from each stage in file order (the root's file first).
  assert.deepEqual(first.summary, ['stage-start a', 'ran a', 'stage-start c', 'ran c', 'stage-start sub/dvc.yaml:b', 'ran sub/dvc.yaml:b']);
  assert.deepEqual(first.results, { a: 'ok', 'sub/dvc.yaml:b': 'ok', c: 'ok' });

  // a fails: b (in the other file) is skipped; c, independent, runs only with keepGoing.
  writeFileSync(join(dir, 'control/a'), '3');
  writeFileSync(join(dir, 'control/c'), '0');
  const failed = await run(dir, { cwd: dir, allPipelines: true, force: true });
  assert.deepEqual(failed.summary, ['stage-start a', 'stage-failed a', 'stage-skipped c', 'stage-skipped sub/dvc.yaml:b']);
  const failure = failed.events.find((e) => e.type === 'stage-failed');
  assert.deepEqual(failure && { reason: failure.reason, exitCode: failure.exitCode }, { reason: 'exit-non-zero', exitCode: 3 });
  const kept = await run(dir, { cwd: join(dir, 'sub'), allPipelines: true, force: true, keepGoing: true });
  assert.deepEqual(kept.summary, ['stage-start ../dvc.yaml:a', 'stage-failed ../dvc.yaml:a', 'stage-start ../dvc.yaml:c', 'ran ../dvc.yaml:c', 'stage-skipped b']);

  // Fixed, and a's output edited: from sub/, the default target is sub/dvc.yaml and what it needs, not c.
  writeFileSync(join(dir, 'control/a'), '0');
  writeFileSync(join(dir, 'a.txt'), 'edited\n');
  const fixed = await run(dir, { cwd: join(dir, 'sub') });
  assert.deepEqual(fixed.summary, ['stage-start ../dvc.yaml:a', 'ran ../dvc.yaml:a', 'up-to-date b']);
  const noop = await run(dir, { cwd: join(dir, 'sub') });
  assert.deepEqual(noop.summary, ['up-to-date ../dvc.yaml:a', 'up-to-date b']);
});

test('repro() in-process: dry reports what would run and why, running nothing', async (t) => {
  const dir = project(t);
  const dry = await run(dir, { cwd: dir, targets: ['sub/dvc.yaml:b'], dry: true });
  assert.deepEqual(dry.summary, ['would-run a', 'would-run sub/dvc.yaml:b']);
  const b = dry.events.find((e) => e.type === 'stage-done' && e.stage === 'sub/dvc.yaml:b');
  assert.deepEqual(b?.type === 'stage-done' && b.reasons, [{ type: 'upstream-changed', stage: 'a' }, { type: 'never-ran' }]);
});
