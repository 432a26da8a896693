import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { generateObesity } from '../src/ml/synthetic.js';
import { openDatabase } from '../src/sql/open.js';
import { gitInit, PROJECT_ROOT, runMlops, tempDir, writeFiles } from './helpers.js';

// The default example with its runs in a SQLite database (MLOPS_TRACKING_URI=sqlite:///mlflow.db), and
// every tracking command reading them back from there. Registering and promoting are the model
// registry's (on a database: the SQL registry), so the pipeline runs up to evaluate here.

interface RunJson {
  info: { run_id: string; run_name: string; status: string; artifact_uri: string; experiment_id: string };
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

function exampleProject(dir: string): void {
  const params = parse(readFileSync(join(PROJECT_ROOT, 'params.yaml'), 'utf8')) as { train: { cv_folds: number; grid: unknown }; evaluate: Record<string, unknown> };
  params.train.cv_folds = 2;
  params.train.grid = { n_estimators: [10, 20], max_depth: [6] };
  delete params.evaluate.thresholds;
  params.evaluate.permutation_repeats = 1;
  writeFiles(dir, {
    'pipeline.yaml': readFileSync(join(PROJECT_ROOT, 'pipeline.yaml'), 'utf8'),
    'params.yaml': stringify(params),
    'data/raw/obesity.csv': generateObesity(300, 11),
    '.mlops/.gitignore': '*\n',
  });
  gitInit(dir);
}

test('default example on SQLite: repro records its runs in the database; runs, experiments, exp, metrics and plots read them', async (t) => {
  const dir = tempDir(t);
  exampleProject(dir);
  const env = { MLOPS_TRACKING_URI: 'sqlite:///mlflow.db' };
  const mlops = (...args: string[]) => runMlops(args, { cwd: dir, env });

  const repro = await mlops('repro', 'evaluate');
  assert.equal(repro.code, 0, repro.stderr);
  assert.ok(existsSync(join(dir, 'mlflow.db')), 'the database is where the URI says, from the project root');
  assert.ok(!existsSync(join(dir, 'mlruns')), 'no folder store beside it');

  const list = await mlops('runs', 'list', '--json');
  assert.equal(list.code, 0, list.stderr);
  const runs = JSON.parse(list.stdout) as RunJson[];
  const stages = runs.map((r) => r.tags['mlops.stage']).filter(Boolean);
  for (const stage of ['prepare', 'train', 'evaluate']) assert.ok(stages.includes(stage), `a ${stage} run in ${stages.join(', ')}`);
  const train = runs.find((r) => r.tags['mlops.stage'] === 'train' && !r.tags['mlflow.parentRunId'])!;
  const candidates = runs.filter((r) => r.tags['mlflow.parentRunId'] === train.info.run_id);
  assert.equal(candidates.length, 2, 'one nested run per grid candidate, linked to the train run');
  assert.ok(runs.every((r) => r.info.status === 'FINISHED'));
  assert.match(train.info.artifact_uri, /^file:\/\/.*\/mlartifacts\/\d+\/[0-9a-f]{32}\/artifacts$/);
  assert.ok(existsSync(join(fileURLToPath(train.info.artifact_uri), 'model.json')), "the trained model is in the run's artifacts");

  // The rows are MLflow's: integer experiment ids, the runs table, latest_metrics.
  const db = await openDatabase('sqlite:///mlflow.db', { root: dir });
  t.after(() => db.close());
  const [{ n }] = (await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM runs')) as [{ n: number }];
  assert.equal(n, runs.length);
  assert.match(train.info.experiment_id, /^\d+$/);
  const evaluate = runs.find((r) => r.tags['mlops.stage'] === 'evaluate')!;
  const latest = await db.query<{ key: string }>('SELECT key FROM latest_metrics WHERE run_uuid = ?', [evaluate.info.run_id]);
  assert.deepEqual(latest.map((m) => m.key).sort(), Object.keys(evaluate.metrics).sort());

  const filtered = await mlops('runs', 'list', '--filter', "status = 'FINISHED' and tags.`mlops.stage` = 'train'", '--order-by', 'start_time DESC', '--json');
  assert.equal(filtered.code, 0, filtered.stderr);
  assert.deepEqual((JSON.parse(filtered.stdout) as RunJson[]).map((r) => r.info.run_id).sort(), [train, ...candidates].map((r) => r.info.run_id).sort());
  const table = await mlops('runs', 'list');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /evaluate/);

  const show = await mlops('runs', 'show', evaluate.info.run_id, '--json');
  assert.equal(show.code, 0, show.stderr);
  assert.deepEqual(JSON.parse(show.stdout).metrics !== undefined, true);
  const compare = await mlops('runs', 'compare', candidates[0]!.info.run_id, candidates[1]!.info.run_id);
  assert.equal(compare.code, 0, compare.stderr);
  assert.match(compare.stdout, /n_estimators/);

  const experiments = await mlops('experiments', 'list', '--json');
  assert.equal(experiments.code, 0, experiments.stderr);
  assert.ok((JSON.parse(experiments.stdout) as { name: string }[]).some((e) => e.name === 'Default'));

  const metrics = await mlops('metrics', 'show', '--json');
  assert.equal(metrics.code, 0, metrics.stderr);
  const plots = await mlops('plots', 'show', '-o', 'plots');
  assert.equal(plots.code, 0, plots.stderr);

  const exp = await mlops('exp', 'run', '-S', 'train.grid.max_depth=[4]', '-n', 'shallow', 'evaluate');
  assert.equal(exp.code, 0, exp.stderr);
  const expShow = await mlops('exp', 'show', '--json');
  assert.equal(expShow.code, 0, expShow.stderr);
  assert.match(expShow.stdout, /shallow/);

  const del = await mlops('runs', 'delete', evaluate.info.run_id);
  assert.equal(del.code, 0, del.stderr);
  const after = JSON.parse((await mlops('runs', 'list', '--json')).stdout) as RunJson[];
  assert.ok(!after.some((r) => r.info.run_id === evaluate.info.run_id));
});

test('the tracking URI: MLFLOW_TRACKING_URI and tracking.uri choose a database too; a bad one is one line', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { '.mlops/.gitignore': '*\n' });
  const viaMlflow = await runMlops(['runs', 'list', '--json'], { cwd: dir, env: { MLFLOW_TRACKING_URI: 'sqlite:///from-env.db' } });
  assert.equal(viaMlflow.code, 0, viaMlflow.stderr);
  assert.ok(existsSync(join(dir, 'from-env.db')));
  assert.equal((await runMlops(['config', 'tracking.uri', 'sqlite:///from-config.db'], { cwd: dir })).code, 0);
  assert.equal((await runMlops(['experiments', 'list'], { cwd: dir })).code, 0);
  assert.ok(existsSync(join(dir, 'from-config.db')));

  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
  const down = await runMlops(['runs', 'list'], { cwd: dir, env: { MLOPS_TRACKING_URI: `postgresql://ml:hunter2@127.0.0.1:${port}/mlflow` } });
  assert.equal(down.code, 1, down.stderr);
  assert.match(down.stderr, new RegExp(`cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port} after \\d+ attempts`));
  assert.equal(down.stderr.trim().split('\n').length, 1, down.stderr);
  assert.doesNotMatch(down.stderr, /hunter2/);

  const unknown = await runMlops(['runs', 'list'], { cwd: dir, env: { MLOPS_TRACKING_URI: 'mysql://db/mlflow' } });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unsupported scheme 'mysql:' \(supported: file:, sqlite:, postgresql:, postgres:/);
});
