import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { HTTP_STATUS, MlopsError, type ErrorKind } from '../src/core/errors.js';
import { EXIT_CODE } from '../src/cli/main.js';
import { findProjectRoot } from '../src/core/root.js';
import { Project } from '../src/project/project.js';
import { TRACKING_STORES } from '../src/project/stores.js';
import { FileStore } from '../src/tracking/file-store.js';
import type { TrackingStore } from '../src/tracking/store.js';
import { gitInit, runMlops, tempDir, writeFiles } from './helpers.js';

// The Project opened in-process (as a server would, several at once), and the tracking location's
// order of precedence through the real CLI.

test('Project.open: root, cwd, config, cache and tracking; two projects in one process are independent', async (t) => {
  const a = tempDir(t);
  const b = tempDir(t);
  writeFiles(a, { '.mlops/config': '[tracking]\n    uri = runs\n    experiment = forest\n', 'sub/x.txt': '' });
  writeFiles(b, { '.dvc/config': '[cache]\n    dir = ../dvc-cache\n' });
  const pa = Project.open(findProjectRoot(join(a, 'sub')), { cwd: join(a, 'sub') });
  const pb = Project.open(b);
  assert.equal(pa.root, a);
  assert.equal(pa.fromCwd('x.txt'), join(a, 'sub', 'x.txt'));
  assert.equal(pa.config.get('tracking.experiment')?.value, 'forest');
  assert.equal(pa.cacheDir, join(a, '.mlops', 'cache'));
  assert.equal(pb.cacheDir, join(b, 'dvc-cache'));
  assert.equal(pb.runCacheDir, join(b, '.mlops', 'runs'), "DVC's run-cache folder holds DVC's format only");
  const ta = await pa.tracking();
  const tb = await pb.tracking();
  assert.deepEqual([ta.uri, ta.shown, ta.experiment], ['runs', 'runs', 'forest']);
  assert.deepEqual([tb.uri, tb.shown, tb.experiment], [join(b, 'mlruns'), 'mlruns', 'Default']);
  assert.equal(await pa.tracking(), ta, 'opened once per project');
  const id = await ta.store.getOrCreateExperiment('forest');
  assert.equal(await tb.store.getExperimentByName('forest'), undefined);
  assert.equal((await new FileStore(join(a, 'runs')).getExperiment(id)).name, 'forest');
});

test('Project.open: the environment given by the caller wins; a registry with another scheme opens that store', async (t) => {
  const root = tempDir(t);
  writeFiles(root, { '.mlops/config': '[tracking]\n    uri = runs\n    experiment = forest\n' });
  const fromEnv = await Project.open(root, { env: { uri: join(root, 'env-runs'), experiment: 'env' } }).tracking();
  assert.deepEqual([fromEnv.uri, fromEnv.experiment], [join(root, 'env-runs'), 'env']);

  // A store of another kind is one more opener in the registry: here a stand-in that records the URI
  // it was opened with and hands out a file store underneath.
  const opened: string[] = [];
  const stores = TRACKING_STORES.with('sqlite', (location): TrackingStore => {
    opened.push(location.uri);
    return new FileStore(join(root, 'sql-standin'));
  });
  const tracking = await Project.open(root, { env: { uri: 'sqlite:///runs.db' }, trackingStores: stores }).tracking();
  assert.deepEqual(opened, ['sqlite:///runs.db']);
  assert.equal(tracking.shown, 'sqlite:///runs.db');
  await assert.rejects(Project.open(root, { env: { uri: 'mysql://db/runs' } }).tracking(), (e: unknown) => e instanceof MlopsError && e.kind === 'invalid');
});

test('error kinds: one exit code and one HTTP status each', () => {
  const kinds: ErrorKind[] = ['invalid', 'not-found', 'conflict', 'failed', 'interrupted'];
  assert.deepEqual(kinds.map((k) => EXIT_CODE[k]), [2, 2, 2, 1, 130]);
  assert.deepEqual(kinds.map((k) => HTTP_STATUS[k]), [400, 404, 409, 500, 503]);
});

/** Five tracking folders, each holding one experiment named after the setting that points at it. */
function fiveStores(root: string): Record<string, string> {
  const places = { mlops_env: 'a', mlflow_env: 'b', config: 'c', params: 'd', default: 'mlruns' };
  for (const [name, folder] of Object.entries(places)) {
    writeFiles(root, { [`${folder}/0/meta.yaml`]: `artifact_location: x\nexperiment_id: '0'\nlifecycle_stage: active\nname: ${name}\n` });
  }
  return places;
}

test('tracking location order: MLOPS_TRACKING_URI, MLFLOW_TRACKING_URI, tracking.uri, the old params.yaml section (one notice), mlruns', async (t) => {
  const root = tempDir(t);
  gitInit(root);
  fiveStores(root);
  const listed = async (env: Record<string, string>) => {
    const r = await runMlops(['experiments', 'list', '--json'], { cwd: join(root, 'sub'), env: { MLOPS_TRACKING_URI: '', MLFLOW_TRACKING_URI: '', MLOPS_TRACKING_DIR: '', ...env } });
    assert.equal(r.code, 0, r.stderr);
    return { name: (JSON.parse(r.stdout) as { name: string }[])[0]?.name, stderr: r.stderr };
  };
  writeFiles(root, { 'sub/.keep': '' });
  assert.equal((await listed({})).name, 'default');
  writeFiles(root, { 'params.yaml': 'tracking:\n  dir: d\n' });
  const old = await listed({});
  assert.equal(old.name, 'params');
  assert.match(old.stderr, /^notice: \S*params\.yaml: the 'tracking:' section moved to \.mlops\/config \(mlops config tracking\.uri \/ tracking\.experiment\); it is still read for this release\n$/);
  writeFiles(root, { '.mlops/config': '[tracking]\n    uri = c\n' });
  assert.deepEqual(await listed({}), { name: 'config', stderr: '' });
  assert.equal((await listed({ MLFLOW_TRACKING_URI: pathToFileURL(join(root, 'b')).href })).name, 'mlflow_env');
  assert.equal((await listed({ MLFLOW_TRACKING_URI: 'b', MLOPS_TRACKING_URI: 'a' })).name, 'mlops_env');
  assert.equal((await listed({ MLOPS_TRACKING_DIR: 'a' })).name, 'mlops_env', 'the older variable still works');
});

test('experiment order: MLFLOW_EXPERIMENT_NAME, tracking.experiment, the old params.yaml key', async (t) => {
  const root = tempDir(t);
  const run = async (env: Record<string, string> = {}) => {
    const r = await runMlops(['runs', 'list'], { cwd: root, env: { MLFLOW_EXPERIMENT_NAME: '', ...env } });
    return r.stdout + r.stderr;
  };
  writeFiles(root, { 'mlruns/0/meta.yaml': "experiment_id: '0'\nlifecycle_stage: active\nname: Default\n" });
  writeFiles(root, { 'params.yaml': 'tracking:\n  experiment: from-params\n' });
  // runs list names the experiment only when it is missing: which one was asked for shows there.
  assert.match(await run(), /no runs/);
  writeFiles(root, { '.mlops/config': '[tracking]\n    experiment = from-config\n' });
  assert.match(await run({ MLFLOW_EXPERIMENT_NAME: 'from-env' }), /no runs/);
  const store = new FileStore(join(root, 'mlruns'));
  for (const name of ['from-params', 'from-config', 'from-env']) {
    const id = await store.getOrCreateExperiment(name);
    const info = await store.createRun({ experimentId: id, runName: `run-of-${name}`, userId: 'u' });
    await store.setStatus(info.run_id, 'FINISHED', Date.now());
  }
  assert.match(await run({ MLFLOW_EXPERIMENT_NAME: 'from-env' }), /run-of-from-env/);
  assert.match(await run(), /run-of-from-config/);
  writeFiles(root, { '.mlops/config': '' });
  const old = await run();
  assert.match(old, /run-of-from-params/);
  assert.match(old, /notice: params\.yaml: the 'tracking:' section moved/);
});

test('the root: the nearest .mlops/ or .dvc/, else the git top; a .mlops/ above the git repository is not taken', (t) => {
  const outer = tempDir(t);
  writeFiles(outer, { '.mlops/config': '', 'repo/sub/deeper/x.txt': '', 'repo/inner/.dvc/config': '', 'loose/y.txt': '' });
  const repo = join(outer, 'repo');
  gitInit(repo);
  assert.equal(findProjectRoot(join(repo, 'sub', 'deeper')), repo, 'stops at the git top');
  assert.equal(findProjectRoot(join(repo, 'inner')), join(repo, 'inner'), 'a DVC project inside the repository');
  assert.equal(findProjectRoot(join(outer, 'loose')), outer, 'no git: the nearest .mlops/ above');
});
