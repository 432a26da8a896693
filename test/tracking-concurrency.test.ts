import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FileStore } from '../src/tracking/file-store.js';
import { PROJECT_ROOT, tempDir, writeFiles } from './helpers.js';
import { validateMlruns } from './tracking-validator.js';

const dist = (file: string) => JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'dist', 'src', 'tracking', file)).href);
const LINES = 300;
const RUNS = 15;

// One writer process: appends LINES values to the shared run's metric, logs the same param, and starts
// RUNS runs of its own in the 'shared' experiment (which both processes create at the same moment).
function writer(root: string, sharedRunId: string, name: string): Promise<number | null> {
  const script = `
    import { FileStore } from ${dist('file-store.js')};
    import { startRun } from ${dist('tracked-run.js')};
    import { Project } from ${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'dist', 'src', 'project', 'project.js')).href)};
    const store = new FileStore(${JSON.stringify(join(root, 'mlruns'))});
    const work = [];
    for (let i = 0; i < ${RUNS}; i++) {
      work.push(startRun({ project: Project.open(${JSON.stringify(root)}), stageName: '${name}', runName: '${name}-' + i })
        .then(async (run) => { await run.logMetric('score', i); await run.end('FINISHED'); }));
    }
    for (let i = 0; i < ${LINES}; i++) {
      await store.logMetrics(${JSON.stringify(sharedRunId)}, [{ key: 'train/loss', value: ${name === 'a' ? 1 : 2}000 + i, step: i, timestamp: Date.now() }]);
      if (i % 50 === 0) await store.logParams(${JSON.stringify(sharedRunId)}, { seed: '7' });
    }
    await Promise.all(work);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'inherit', 'inherit'] });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

test('two processes logging to the same run and experiment at once lose nothing', async (t) => {
  const root = tempDir(t);
  writeFiles(root, { '.mlops/config': '[tracking]\n    experiment = shared\n' });
  const store = new FileStore(join(root, 'mlruns'));
  const shared = await store.createRun({ experimentId: await store.getOrCreateExperiment('Default'), runName: 'shared', userId: 'u' });

  assert.deepEqual(await Promise.all([writer(root, shared.run_id, 'a'), writer(root, shared.run_id, 'b')]), [0, 0]);

  const text = readFileSync(join(root, 'mlruns', '0', shared.run_id, 'metrics', 'train', 'loss'), 'utf8');
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'the file ends with a newline');
  assert.equal(lines.length, 2 * LINES, 'every appended line is there');
  for (const line of lines) assert.match(line, /^\d+ [12]\d{3}\.0 \d+$/, 'no torn or interleaved line');
  const values = new Set(lines.map((l) => Number(l.split(' ')[1])));
  for (let i = 0; i < LINES; i++) assert.ok(values.has(1000 + i) && values.has(2000 + i), `value ${i} of both writers`);
  assert.equal((await store.getRun(shared.run_id)).params.seed, '7');

  const experiments = (await store.listExperiments()).filter((e) => e.name === 'shared');
  assert.equal(experiments.length, 1, 'both processes created the experiment into one folder');
  const { runs, skipped } = await store.searchRuns({ experimentIds: [experiments[0]!.experiment_id] });
  assert.deepEqual(skipped, []);
  assert.equal(runs.length, 2 * RUNS);
  assert.ok(runs.every((r) => r.info.status === 'FINISHED' && r.metrics.score !== undefined));
  assert.deepEqual(validateMlruns(join(root, 'mlruns')), [], 'no stray temp file, every rule kept');
});
