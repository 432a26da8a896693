import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateObesity } from '../src/ml/synthetic.js';
import { FileStore } from '../src/tracking/file-store.js';
import { MLOPS_BIN, runMlops, writeFiles } from './helpers.js';

// Reading runs as a user does after a few train runs: candidates nested, ranked by what they were
// ranked by in the search, and artifacts that do not pile up copies.

// One project trained twice serves every test here (a train takes seconds).
let shared: ReturnType<typeof train> | undefined;
const trainedTwice = () => (shared ??= train());
after(() => shared?.then(({ dir }) => rmSync(dir, { recursive: true, force: true })));

async function train() {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-test-'));
  writeFiles(dir, {
    'data/raw/obesity.csv': generateObesity(150, 5),
    'params.yaml': 'prepare:\n  input: data/raw/obesity.csv\n  target: NObeyesdad\ntrain:\n  cv_folds: 3\n  workers: 1\n  grid:\n    n_estimators: [5]\n    max_depth: [2, 3, null]\n',
  });
  assert.equal((await runMlops(['prepare'], { cwd: dir })).code, 0);
  const first = await runMlops(['train'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.equal((await runMlops(['train'], { cwd: dir })).code, 0);
  return { dir, trainLog: first.stdout, cv: JSON.parse(readFileSync(join(dir, 'reports/cv_results.json'), 'utf8')) };
}

test('runs list nests candidates under their train run in grid order, with key metrics as columns; --flat lists every run', async () => {
  const { dir, trainLog, cv } = await trainedTwice();
  const list = await runMlops(['runs', 'list'], { cwd: dir });
  assert.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^RUN ID +NAME +STAGE +STATUS +START \(UTC\) .*f1_macro/);
  const names = lines.slice(1).map((l) => /^( *\S+)/.exec(l.slice(34))![1]);
  assert.deepEqual(names.map((n) => n!.replace(/^train-\d{8}-\d{6}$/, 'train')), [
    'train', '  candidate-0', '  candidate-1', '  candidate-2', 'train', '  candidate-0', '  candidate-1', '  candidate-2', 'prepare-' + names[8]!.slice(8),
  ]);
  // The train log names candidates the same way, by their place in the grid.
  for (const [i, c] of cv.candidates.entries()) assert.match(trainLog, new RegExp(`^candidate-${i}: max_depth=${c.params.max_depth} n_estimators=5: `, 'm'));

  const flat = await runMlops(['runs', 'list', '--flat'], { cwd: dir });
  assert.equal(flat.stdout.trimEnd().split('\n').length, 1 + 9, 'header, prepare, 2 train runs, 6 candidates');
  assert.ok(!/^\S+ +  candidate/m.test(flat.stdout), 'no indentation with --flat');
});

test('runs list on a terminal leaves out the metric columns that do not fit, with a note, and keeps run ids whole', async () => {
  const { dir } = await trainedTwice();
  const env: NodeJS.ProcessEnv = { ...process.env, MLOPS_ROOT: '' };
  delete env.CI;
  const shown = spawnSync('script', ['-qfc', `stty cols 110; ${process.execPath} ${MLOPS_BIN} runs list`, '/dev/null'], { cwd: dir, env, encoding: 'utf8' });
  const lines = shown.stdout.replace(/\x1b\[[0-9;]*m/g, '').split(/\r?\n/).filter(Boolean);
  assert.match(lines[0]!, /^RUN ID +NAME +STAGE +STATUS +START \(UTC\)/);
  for (const line of lines.filter((l) => !l.startsWith('note:'))) assert.ok(line.length <= 110, `${line.length} characters: ${line}`);
  assert.match(lines[1]!, /^[0-9a-f]{32} /);
  assert.match(shown.stdout, /note: \d+ of \d+ columns left out to fit 110 characters; see all with --json/);
});

test("a candidate's f1_macro is its CV mean, so the README's filter ranks candidates as the search did", async () => {
  const { dir, cv } = await trainedTwice();
  const r = await runMlops(['runs', 'list', '--json', '--filter', "metrics.f1_macro > -1 and tags.mlops.stage = 'train'", '--order-by', 'metrics.f1_macro DESC'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const runs = JSON.parse(r.stdout) as { info: { run_name: string }; metrics: Record<string, number> }[];
  assert.equal(runs.length, 6, 'the candidates of both train runs, not the parents');
  for (const run of runs) {
    const i = Number(run.info.run_name.split('-')[1]);
    assert.equal(run.metrics.f1_macro, cv.candidates[i].mean_score);
    assert.equal(run.metrics.cv_f1_macro, cv.candidates[i].fold_scores.at(-1), 'fold scores are steps of cv_f1_macro');
  }
  const scores = runs.map((r) => r.metrics.f1_macro!);
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
});

test('artifacts are stored once per content: two train runs share one model file (hard links), still plain files for MLflow', async () => {
  const { dir } = await trainedTwice();
  const store = new FileStore(join(dir, 'mlruns'));
  const { runs } = await store.searchRuns({ experimentIds: ['0'], filter: "tags.mlops.stage = 'train'", orderBy: [], maxResults: 100, view: 'active' });
  const parents = runs.filter((r) => !r.tags['mlflow.parentRunId']);
  assert.equal(parents.length, 2);
  const models = parents.map((r) => join(dir, 'mlruns/0', r.info.run_id, 'artifacts/model.json'));
  const [a, b] = models.map((m) => statSync(m));
  assert.equal(a!.ino, b!.ino, 'one file on disk for the same model');
  assert.ok(a!.isFile() && a!.nlink >= 3, 'a regular file: two runs and the content store');
  assert.equal(readFileSync(models[0]!, 'utf8'), readFileSync(join(dir, 'models/model.json'), 'utf8'));
});
