import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateObesity } from '../src/ml/synthetic.js';
import { gitInit, PROJECT_ROOT, runMlops, tempDir, writeFiles } from './helpers.js';
import { exampleParams } from './example-project.js';

// The default example as the weekly retraining loop: the project's own pipeline.yaml and params.yaml
// (with a smaller grid and generated data, so it runs in seconds), through `mlops repro`.

test('default example: repro registers and promotes; again is a no-op; a worse model is refused with exit 1', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': readFileSync(join(PROJECT_ROOT, 'pipeline.yaml'), 'utf8'),
    'params.yaml': exampleParams({ n_estimators: [20], max_depth: [8] }),
    'data/raw/obesity.csv': generateObesity(300, 7),
    '.mlops/.gitignore': '*\n', // marks the root: a stray `.mlops` above cannot claim the project
  });
  gitInit(dir);
  const models = async () => JSON.parse((await runMlops(['models', 'show', 'obesity_classifier', '--json'], { cwd: dir })).stdout);
  const history = async () => JSON.parse((await runMlops(['models', 'history', 'obesity_classifier', '--json'], { cwd: dir })).stdout).events;

  const first = await runMlops(['repro'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /registered obesity_classifier version 1/);
  assert.match(first.stdout, /promoted obesity_classifier champion: - -> v1/);
  assert.deepEqual((await models()).aliases, { champion: 1 });

  const second = await runMlops(['repro'], { cwd: dir });
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stdout, /registered|promoted/);
  assert.equal((await models()).versions.length, 1, 'nothing new registered');
  assert.equal((await history()).length, 1);
  // Forced through the stage again, registering is still a no-op naming the version.
  const forced = await runMlops(['repro', '--force', '--single-item', 'register'], { cwd: dir });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /already registered: this content is version 1 of obesity_classifier/);

  writeFileSync(join(dir, 'params.yaml'), exampleParams({ n_estimators: [1], max_depth: [1] }));
  const worse = await runMlops(['repro'], { cwd: dir });
  assert.equal(worse.code, 1, worse.stderr);
  assert.match(worse.stdout, /registered obesity_classifier version 2/);
  assert.match(worse.stdout + worse.stderr, /refused obesity_classifier champion: v1 -> v2; champion stays at v1; failed: .*f1_macro not worse than champion v1/);
  const shown = await models();
  assert.deepEqual(shown.aliases, { champion: 1 });
  assert.deepEqual(shown.versions.map((v: { version: number }) => v.version), [1, 2]);
  assert.equal((await history()).length, 1, 'a refused promotion records nothing');

  // gc keeps the champion's files though no lock file references that model any more.
  const gc = await runMlops(['gc', '-f'], { cwd: dir });
  assert.equal(gc.code, 0, gc.stderr);
  assert.deepEqual((await models()).versions.map((v: { integrity: string }) => v.integrity), ['ok', 'ok']);
  const served = await runMlops(['predict', '--model', 'models:/obesity_classifier@champion', '--input', 'data/raw/obesity.csv'], { cwd: dir });
  assert.equal(served.code, 0, served.stderr);
});
