import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FileStore } from '../src/tracking/file-store.js';
import { startRun, withTrackedRun } from '../src/tracking/tracked-run.js';
import { Project } from '../src/project/project.js';
import { gitInit, PROJECT_ROOT, tempDir, writeFiles } from './helpers.js';

const TRACKED_RUN_JS = pathToFileURL(join(PROJECT_ROOT, 'dist', 'src', 'tracking', 'tracked-run.js')).href;
const PROJECT_JS = pathToFileURL(join(PROJECT_ROOT, 'dist', 'src', 'project', 'project.js')).href;

async function runOf(root: string, runId: string, dir = join(root, 'mlruns')) {
  return new FileStore(dir).getRun(runId);
}

test('withTrackedRun: RUNNING while fn runs, FINISHED after, FAILED (error re-thrown) when fn throws', async (t) => {
  const root = tempDir(t);
  let id = '';
  const value = await withTrackedRun({ project: Project.open(root), stageName: 'train', runName: 'ok' }, async (run) => {
    id = run.runId;
    const during = await runOf(root, run.runId);
    assert.equal(during.info.status, 'RUNNING');
    assert.equal(during.info.end_time, null);
    return 42;
  });
  assert.equal(value, 42);
  const finished = await runOf(root, id);
  assert.equal(finished.info.status, 'FINISHED');
  assert.ok(finished.info.end_time! >= finished.info.start_time);
  assert.equal(finished.info.run_name, 'ok');

  let failedId = '';
  let childId = '';
  await assert.rejects(
    withTrackedRun({ project: Project.open(root), stageName: 'train' }, async (run) => {
      failedId = run.runId;
      childId = (await run.startChild('candidate')).runId;
      throw new Error('training diverged');
    }),
    /training diverged/,
  );
  assert.equal((await runOf(root, failedId)).info.status, 'FAILED');
  assert.equal((await runOf(root, childId)).info.status, 'FAILED', 'an open child ends with its parent');

  const store = new FileStore(join(root, 'mlruns'));
  const before = new Set((await store.searchRuns({ experimentIds: ['0'] })).runs.map((r) => r.info.run_id));
  await assert.rejects(withTrackedRun({ project: Project.open(root), stageName: 'train', params: { 'bad//key': 1 } }, async () => 0), /invalid param name/);
  const added = (await store.searchRuns({ experimentIds: ['0'] })).runs.filter((r) => !before.has(r.info.run_id));
  assert.deepEqual(added.map((r) => r.info.status), ['FAILED'], 'a run whose params cannot be stored does not stay RUNNING');
});

test('standard tags: user, source, stage (the pipeline stage wins), no git tags outside a repository', async (t) => {
  const root = tempDir(t);
  const run = await startRun({ project: Project.open(root), stageName: 'train', pipelineStage: 'train_big', params: { train: { n_estimators: 300 } } });
  await run.end('FINISHED');
  const { tags, params, info } = await runOf(root, run.runId);
  assert.equal(tags['mlops.stage'], 'train_big');
  assert.equal(tags['mlflow.source.name'], 'mlops train');
  assert.equal(tags['mlflow.source.type'], 'LOCAL');
  assert.equal(tags['mlflow.user'], info.user_id);
  assert.ok(info.user_id.length > 0);
  assert.equal(tags['mlflow.runName'], info.run_name);
  assert.match(info.run_name, /^train_big-\d{8}-\d{6}$/);
  assert.deepEqual(params, { 'train.n_estimators': '300' });
  assert.ok(!Object.keys(tags).some((k) => k.includes('git')), 'no git tags outside a repository');
});

test('git tags from a real repository: commit, branch, dirty state (untracked files do not count)', async (t) => {
  const root = tempDir(t);
  writeFiles(root, { 'params.yaml': 'train: {}\n' });
  gitInit(root);
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  const clean = await startRun({ project: Project.open(root), stageName: 'train' });
  await clean.end('FINISHED');
  const tags = (await runOf(root, clean.runId)).tags;
  assert.equal(tags['mlflow.source.git.commit'], head);
  assert.equal(tags['mlflow.source.git.branch'], 'main');
  assert.equal(tags['mlops.git.dirty'], 'false', 'the untracked mlruns/ folder does not make the tree dirty');

  writeFileSync(join(root, 'params.yaml'), 'train: {n_estimators: 5}\n');
  const dirty = await startRun({ project: Project.open(root), stageName: 'train' });
  assert.equal((await runOf(root, dirty.runId)).tags['mlops.git.dirty'], 'true');
});

test('nested runs: children carry mlflow.parentRunId and the parent context tags', async (t) => {
  const root = tempDir(t);
  const parent = await startRun({ project: Project.open(root), stageName: 'train', runName: 'grid-search' });
  const children = [];
  for (const depth of [5, 10]) {
    const child = await parent.startChild(`max_depth=${depth}`);
    await child.logParams({ max_depth: depth });
    for (const [fold, score] of [0.8, 0.82, 0.81].entries()) await child.logMetric('cv_score', score, fold);
    await child.logMetrics({ cv_mean: 0.81, cv_std: 0.008 });
    await child.end('FINISHED');
    children.push(child.runId);
  }
  await parent.end('FINISHED');
  const store = new FileStore(join(root, 'mlruns'));
  const { runs } = await store.searchRuns({ experimentIds: ['0'], filter: `tags.mlflow.parentRunId = '${parent.runId}'` });
  assert.deepEqual(runs.map((r) => r.info.run_id).sort(), [...children].sort());
  for (const r of runs) {
    assert.equal(r.tags['mlops.stage'], 'train');
    assert.equal(r.metrics.cv_score, 0.81, 'latest fold score is the one at the highest step');
    assert.deepEqual((await store.getMetricHistory(r.info.run_id, 'cv_score')).map((m) => m.step), [0, 1, 2]);
  }
});

test('tracking location: the URI the caller passes, else the old params.yaml tracking.dir and tracking.experiment (with one notice)', async (t) => {
  const root = tempDir(t);
  writeFiles(root, { 'params.yaml': 'tracking:\n  dir: out/tracking\n  experiment: forest\n' });
  const notices: string[] = [];
  const run = await startRun({ project: Project.open(root, { notice: (line) => notices.push(line) }), stageName: 'train' });
  const store = new FileStore(join(root, 'out', 'tracking'));
  const experiment = (await store.getExperimentByName('forest'))!;
  assert.equal((await store.getRun(run.runId)).info.experiment_id, experiment.experiment_id);
  assert.equal(notices.length, 1);
  assert.match(notices[0]!, /params\.yaml: the 'tracking:' section moved to \.mlops\/config/);

  const elsewhere = tempDir(t);
  const moved = await startRun({ project: Project.open(root, { env: { uri: elsewhere } }), stageName: 'train' });
  assert.equal((await new FileStore(elsewhere).getRun(moved.runId)).info.run_id, moved.runId);

  writeFiles(root, { 'params.yaml': 'tracking:\n  experiment: [not, a, name]\n' });
  await assert.rejects(startRun({ project: Project.open(root), stageName: 'train' }), /params\.yaml:2: 'tracking\.experiment': expected a non-empty string/);
});

/** Starts a child process that runs a tracked stage until signalled; resolves with its run id. */
function trackedChild(root: string): { ready: Promise<string>; exit: Promise<NodeJS.Signals | number | null>; kill(s: NodeJS.Signals): void } {
  const script = `
    import { withTrackedRun } from ${JSON.stringify(TRACKED_RUN_JS)};
    import { Project } from ${JSON.stringify(PROJECT_JS)};
    await withTrackedRun({ project: Project.open(${JSON.stringify(root)}), stageName: 'train' }, async (run) => {
      process.stdout.write(run.runId + '\\n');
      await new Promise((resolve) => setTimeout(resolve, 30000));
    });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  const exit = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return { ready, exit, kill: (s) => child.kill(s) };
}

test('Ctrl-C marks the run FAILED and SIGTERM KILLED; the process still ends by the signal', async (t) => {
  const root = tempDir(t);
  for (const [signal, status] of [['SIGINT', 'FAILED'], ['SIGTERM', 'KILLED']] as const) {
    const child = trackedChild(root);
    const runId = await child.ready;
    child.kill(signal);
    assert.equal(await child.exit, signal);
    const run = await runOf(root, runId);
    assert.equal(run.info.status, status, signal);
    assert.ok(run.info.end_time !== null);
  }
});
