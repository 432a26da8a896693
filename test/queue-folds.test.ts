import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { md5File } from '../src/cache/hash.js';
import { FoldRunner } from '../src/ml/cv.js';
import { readDataset } from '../src/ml/dataset.js';
import { searchFolds } from '../src/ml/search.js';
import { Project } from '../src/project/project.js';
import { foldHandler, type FoldJobData } from '../src/queue/folds.js';
import type { JobContext } from '../src/queue/queue.js';
import { tempDir } from './helpers.js';

// A queue worker's side of a grid fanned out over the queue: the fit runs on a worker thread, so the
// worker's event loop keeps renewing the job's lease (and fetching, and watching for kills) however
// long the fit; its score is the one the search fits in place, bit for bit.

test('a fold job fits on a worker thread: the event loop keeps ticking during a long fit, and the score is the in-place one', async (t) => {
  const dir = tempDir(t);
  const rows = ['a,b,c,d,e,f,label'];
  let state = 7;
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 3000; i++) {
    const x = Array.from({ length: 6 }, next);
    rows.push(`${x.map((v) => v.toFixed(4)).join(',')},${x[0]! + x[1]! * next() > 0.8 ? 'hi' : x[2]! > 0.5 ? 'mid' : 'lo'}`);
  }
  const file = join(dir, 'train.csv');
  writeFileSync(file, `${rows.join('\n')}\n`);
  const md5 = await md5File(file);
  const project = Project.open(dir, { cwd: dir });
  await project.cache.add(file, { info: { md5, size: 0 } });
  const fold = { id: 3, engine: 'forest', params: { n_estimators: 400, max_depth: null, max_features: 'sqrt', min_samples_leaf: 1 }, fold: 1, seed: 11, scoring: 'f1_macro' } as const;
  const data: FoldJobData = { md5, target: 'label', task: 'classification', folds: 3, seed: 11, splitter: 'exact', fold: fold as unknown as FoldJobData['fold'] };
  const job = { id: 'g1.3', name: 'fold', data, state: 'running', attempts: 1, maxAttempts: 3, created: Date.now() } as const;

  const fits = foldHandler(project, 1);
  t.after(() => fits.close());
  let last = performance.now();
  let longestGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 20);
  const started = performance.now();
  const result = await fits.handler({ job, log: async () => {}, signal: new AbortController().signal } as JobContext);
  const fitWall = performance.now() - started;
  clearInterval(ticker);
  longestGap = Math.max(longestGap, performance.now() - last); // a loop blocked to the end never ticked again

  const { data: matrix } = readDataset(file, 'label', 'classification');
  const inPlace = await new FoldRunner({ data: matrix, folds: searchFolds(matrix, 3, 11), splitter: 'exact' }).run(data.fold);
  assert.equal(result.score, inPlace.score, 'the same fit, bit for bit');
  assert.equal(result.id, 3);
  assert.ok(fitWall > 400, `the fit is long enough to tell (${fitWall.toFixed(0)} ms)`);
  assert.ok(longestGap < fitWall / 2, `the event loop ticked during the fit (longest gap ${longestGap.toFixed(0)} ms of ${fitWall.toFixed(0)} ms)`);
});

test('a worker\'s fitting thread outlives a data set: the folds of another search fit on their own data, bit for bit, and back', async (t) => {
  const dir = tempDir(t);
  const project = Project.open(dir, { cwd: dir });
  // Two training files of different rows, as two searches' data sets.
  const files = await Promise.all(
    [3, 5].map(async (seed) => {
      let state = seed;
      const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const rows = ['a,b,c,label'];
      for (let i = 0; i < 400; i++) {
        const x = Array.from({ length: 3 }, next);
        rows.push(`${x.map((v) => v.toFixed(4)).join(',')},${x[0]! + x[1]! * next() > 0.8 ? 'hi' : 'lo'}`);
      }
      const file = join(dir, `train-${seed}.csv`);
      writeFileSync(file, `${rows.join('\n')}\n`);
      const md5 = await md5File(file);
      await project.cache.add(file, { info: { md5, size: 0 } });
      return { file, md5 };
    }),
  );
  const fold = { id: 1, engine: 'forest', params: { n_estimators: 15, max_depth: null, max_features: 'sqrt', min_samples_leaf: 1 }, fold: 1, seed: 11, scoring: 'f1_macro' } as const;
  const jobOf = (md5: string, n: number) => {
    const data: FoldJobData = { md5, target: 'label', task: 'classification', folds: 3, seed: 11, splitter: 'exact', fold: fold as unknown as FoldJobData['fold'] };
    return { job: { id: `g${n}.1`, name: 'fold', data, state: 'running', attempts: 1, maxAttempts: 3, created: Date.now() }, log: async () => {}, signal: new AbortController().signal } as JobContext;
  };
  const inPlace = await Promise.all(
    files.map(async ({ file }) => {
      const { data: matrix } = readDataset(file, 'label', 'classification');
      return (await new FoldRunner({ data: matrix, folds: searchFolds(matrix, 3, 11), splitter: 'exact' }).run(fold as unknown as FoldJobData['fold'])).score;
    }),
  );
  assert.notEqual(inPlace[0], inPlace[1], 'the two data sets score differently');

  const fits = foldHandler(project, 1); // one thread: every fit below runs on it
  t.after(() => fits.close());
  const scores = [];
  for (const [n, which] of [0, 1, 0].entries()) scores.push((await fits.handler(jobOf(files[which]!.md5, n))).score);
  assert.deepEqual(scores, [inPlace[0], inPlace[1], inPlace[0]]);
});
