import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { generateObesity } from '../src/ml/synthetic.js';
import { FileStore } from '../src/tracking/file-store.js';
import { runMlops, tempDir, writeFiles } from './helpers.js';

// Every pipeline stage is a tracked run whose environment names it the way MLflow's client reads it, so
// a user's own code (bash, Python) logs into it, and built-in stages log into it instead of a second run.

async function stageRuns(dir: string) {
  const store = new FileStore(join(dir, 'mlruns'));
  const { runs } = await store.searchRuns({ experimentIds: ['0'], orderBy: [], maxResults: 100, view: 'active' });
  return { store, runs, byStage: (stage: string) => runs.filter((r) => r.tags['mlops.stage'] === stage && !r.tags['mlflow.parentRunId']) };
}

const PYTHON_STAGE = `
import os, subprocess, sys
uri, run_id, experiment = (os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_NAME"))
assert uri and uri.startswith("file://"), uri
assert run_id and len(run_id) == 32, run_id
assert experiment == "Default", experiment
assert os.path.isfile(os.path.join(uri[len("file://"):], "0", run_id, "meta.yaml"))
subprocess.run(["mlops", "log", "param", "lang", "python"], check=True)
subprocess.run(["mlops", "log", "metric", "acc", "0.75", "--step", "2"], check=True)
subprocess.run(["mlops", "log", "tag", "who", run_id], check=True)
`;

test('bash and Python stages log into their own stage run through mlops log; each run records cmd, reasons, duration, exit code', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': [
      'stages:',
      '  shell:',
      '    cmd: test -n "$MLFLOW_RUN_ID" && mlops log param lang bash && mlops log metric loss 0.5 && echo x > x.txt && mlops log artifact x.txt data',
      '    outs: [x.txt]',
      '  python:',
      '    cmd: python3 stage.py',
      '    deps: [x.txt, stage.py]',
      '  broken:',
      '    cmd: mlops log metric acc 0.1 && exit 3',
      '',
    ].join('\n'),
    'stage.py': PYTHON_STAGE,
  });
  const r = await runMlops(['repro', '--keep-going', '--json'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  const { runs, byStage } = await stageRuns(dir);
  assert.equal(runs.length, 3, 'one run per stage that ran');
  const shell = byStage('shell')[0]!;
  assert.equal(shell.info.status, 'FINISHED');
  assert.equal(shell.params.lang, 'bash');
  assert.equal(shell.metrics.loss, 0.5);
  assert.equal(readFileSync(join(dir, 'mlruns/0', shell.info.run_id, 'artifacts/data/x.txt'), 'utf8'), 'x\n');
  assert.match(shell.tags['mlops.cmd']!, /^test -n/);
  assert.equal(shell.tags['mlops.reasons'], 'never ran');
  assert.equal(shell.tags['mlops.exit_code'], '0');
  assert.match(shell.tags['mlops.duration_s']!, /^\d+\.\d{3}$/);

  const python = byStage('python')[0]!;
  assert.equal(python.info.status, 'FINISHED', r.stderr);
  assert.deepEqual([python.params.lang, python.metrics.acc, python.tags.who], ['python', 0.75, python.info.run_id]);
  assert.match(python.tags['mlops.reasons']!, /never ran/);

  const broken = byStage('broken')[0]!;
  assert.equal(broken.info.status, 'FAILED');
  assert.equal(broken.tags['mlops.exit_code'], '3');
  assert.equal(broken.metrics.acc, 0.1);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.stages.broken.reasons, ['never ran'], '--json keeps the reasons of a failed stage');
  assert.equal(report.stages.broken.exit_code, 3);
});

test('mlops log outside a stage: exit 2 naming MLFLOW_RUN_ID; with MLFLOW_TRACKING_URI it logs to that folder', async (t) => {
  const dir = tempDir(t);
  const r = await runMlops(['log', 'metric', 'acc', '0.5'], { cwd: dir, env: { MLFLOW_RUN_ID: '' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: MLFLOW_RUN_ID is not set/);
  const elsewhere = join(tempDir(t), 'runs');
  const store = new FileStore(elsewhere);
  const run = await store.createRun({ experimentId: await store.getOrCreateExperiment('Default'), runName: 'mine', userId: 'me', tags: {} });
  const env = { MLFLOW_RUN_ID: run.run_id, MLFLOW_TRACKING_URI: pathToFileURL(elsewhere).href };
  assert.equal((await runMlops(['log', 'metric', 'acc', '0.5'], { cwd: dir, env })).code, 0);
  assert.equal((await store.getRun(run.run_id)).metrics.acc, 0.5);
  const bad = await runMlops(['log', 'metric', 'acc', 'high'], { cwd: dir, env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /must be a number/);
  assert.ok(!existsSync(join(dir, 'mlruns')), 'nothing written in the project');
});

test('a built-in stage (mlops prepare as a cmd) logs into the stage run, not a second one', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'data/raw/obesity.csv': generateObesity(120, 3),
    'params.yaml': 'prepare:\n  input: data/raw/obesity.csv\n  target: NObeyesdad\n',
    'pipeline.yaml': 'stages:\n  prep:\n    cmd: mlops prepare\n    deps: [data/raw/obesity.csv]\n',
  });
  const r = await runMlops(['repro'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const { runs } = await stageRuns(dir);
  assert.equal(runs.length, 1, readdirSync(join(dir, 'mlruns/0')).join(' '));
  const [run] = runs;
  assert.equal(run!.tags['mlops.stage'], 'prep');
  assert.equal(run!.tags['mlops.cmd'], 'mlops prepare');
  assert.equal(run!.info.status, 'FINISHED');
  assert.ok(Object.keys(run!.params).length > 0, 'prepare logged its params into the stage run');
});

test('a config error inside a built-in stage is its exit code 2 in repro --json (a failed gate would be 1)', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'params.yaml': 'prepare:\n  input: data/raw/missing.csv\n  target: y\n  test_size: 7\n',
    'pipeline.yaml': 'stages:\n  prep:\n    cmd: mlops prepare\n',
  });
  const r = await runMlops(['repro', '--json'], { cwd: dir });
  assert.equal(r.code, 1);
  const report = JSON.parse(r.stdout);
  assert.equal(report.stages.prep.status, 'failed');
  assert.equal(report.stages.prep.exit_code, 2);
  assert.deepEqual(report.stages.prep.reasons, ['never ran']);
});

test("a stage's run is named the same from any folder: bare at the root, sub/dvc.yaml:name elsewhere", async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    '.mlops/config': '',
    'pipeline.yaml': 'stages:\n  top:\n    cmd: echo t > t.txt\n    outs: [t.txt]\n',
    'sub/dvc.yaml': 'stages:\n  low:\n    cmd: echo l > l.txt\n    outs: [l.txt]\n',
    'other/keep.txt': '',
  });
  assert.equal((await runMlops(['repro', '-P'], { cwd: join(dir, 'other') })).code, 0);
  const names = (await stageRuns(dir)).runs.map((r) => r.tags['mlops.stage']).sort();
  assert.deepEqual(names, ['sub/dvc.yaml:low', 'top']);
});
