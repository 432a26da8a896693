import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MlopsError } from '../src/core/errors.js';
import { Project } from '../src/project/project.js';
import { TRACKING_STORES } from '../src/project/stores.js';
import { startUi } from '../src/ui/server.js';
import { generateObesity } from '../src/ml/synthetic.js';
import { gitInit, runMlops, startS3Server, tempDir, writeFiles, type S3Server, smallParams } from './helpers.js';
import { postgresDatabase } from './postgres.js';

// A database store whose artifact root is an S3 bucket (MLflow's --default-artifact-root s3://...),
// on a real S3 server (s3rver) on 127.0.0.1, reached with the settings of the project's remote on the
// same bucket: artifacts are uploaded there, listed and read back by the store, `runs show`, the UI,
// `models register --run` and `tracking migrate`; nothing is written to a local artifact folder.

const BUCKET = 'mlops-artifacts';
const ROOT = `s3://${BUCKET}/team/mlflow`;

/** A project whose remote `store` is on BUCKET (its endpoint and s3rver's credentials), with the artifact root in the bucket. */
async function s3Project(t: TestContext, trackingUri = 'sqlite:///mlflow.db'): Promise<{ dir: string; server: S3Server }> {
  const server = await startS3Server(t, [BUCKET]);
  const dir = tempDir(t);
  writeFiles(dir, {
    '.mlops/config': [
      '[tracking]',
      `    uri = ${trackingUri}`,
      `    artifact_root = ${ROOT}/`,
      `['remote "store"']`,
      `    url = s3://${BUCKET}/dvc`,
      `    endpointurl = ${server.endpoint}`,
      '    access_key_id = S3RVER',
      '    secret_access_key = S3RVER',
      '',
    ].join('\n'),
  });
  return { dir, server };
}

/** The object as s3rver keeps it on disk: the bytes a real S3 client uploaded. */
const s3Object = (server: S3Server, key: string) => join(server.directory, BUCKET, `${key}._S3rver_object`);

async function storeRoundTrip(t: TestContext, trackingUri: string): Promise<void> {
  const { dir, server } = await s3Project(t, trackingUri);
  const project = Project.open(dir, { cwd: dir, env: {} });
  const { store } = await project.tracking();
  t.after(() => store.close?.());
  assert.equal(store.artifactRoot, ROOT);
  const experimentId = await store.getOrCreateExperiment('s3');
  assert.equal((await store.getExperiment(experimentId)).artifact_location, `${ROOT}/${experimentId}`);
  const { run_id, artifact_uri } = await store.createRun({ experimentId, runName: 'r', userId: 'tester' });
  assert.equal(artifact_uri, `${ROOT}/${experimentId}/${run_id}/artifacts`);

  writeFiles(dir, { 'out/model.json': '{"kind":"model"}', 'out/plots/roc.csv': 'fpr,tpr\n0,0\n1,1\n', 'notes.txt': 'hello' });
  await store.logArtifact(run_id, join(dir, 'notes.txt'));
  await store.logArtifact(run_id, join(dir, 'out'), 'bundle');
  const key = `team/mlflow/${experimentId}/${run_id}/artifacts`;
  assert.equal(readFileSync(s3Object(server, `${key}/bundle/out/plots/roc.csv`), 'utf8'), 'fpr,tpr\n0,0\n1,1\n', 'uploaded to the bucket under the run');
  assert.ok(!existsSync(join(dir, 'mlartifacts')), 'no local artifact folder');

  assert.deepEqual(await store.listArtifacts(run_id), [
    { path: 'bundle/out/model.json', size: 16 },
    { path: 'bundle/out/plots/roc.csv', size: 16 },
    { path: 'notes.txt', size: 5 },
  ]);
  await store.downloadArtifact(run_id, 'bundle/out/model.json', join(dir, 'back', 'model.json'));
  assert.equal(readFileSync(join(dir, 'back', 'model.json'), 'utf8'), '{"kind":"model"}');
  await assert.rejects(store.downloadArtifact(run_id, 'missing.txt', join(dir, 'x')), (e) => e instanceof MlopsError && e.kind === 'not-found' && /no artifact 'missing.txt'/.test(e.message));
  await assert.rejects(store.downloadArtifact(run_id, '../../other/artifacts/a', join(dir, 'x')), /must stay inside/);
  assert.ok(!existsSync(join(dir, 'x')), 'nothing half-written');
}

test('SQLite with an S3 artifact root: artifacts uploaded to the bucket, listed and downloaded; none on disk', (t) => storeRoundTrip(t, 'sqlite:///mlflow.db'));

test('PostgreSQL with an S3 artifact root: the same', async (t) => {
  const uri = await postgresDatabase(t, 's3_artifacts');
  if (uri) await storeRoundTrip(t, uri);
});

test('S3 artifact root: runs show lists them, the UI lists and previews them, tracking migrate copies them', async (t) => {
  const { dir } = await s3Project(t);
  const mlops = async (...args: string[]) => {
    const r = await runMlops(args, { cwd: dir });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const store = await TRACKING_STORES.open('sqlite:///mlflow.db', dir, { artifactRoot: ROOT });
  let runId: string;
  try {
    const experimentId = await store.getOrCreateExperiment('Default');
    runId = (await store.createRun({ experimentId, runName: 'train', userId: 'tester' })).run_id;
    writeFiles(dir, { 'upload/metrics.json': JSON.stringify({ f1: 0.9 }), 'upload/model.bin': 'x'.repeat(300) });
    await store.logArtifact(runId, join(dir, 'upload', 'metrics.json'));
    await store.logArtifact(runId, join(dir, 'upload', 'model.bin'), 'models');
    await store.setStatus(runId, 'FINISHED', Date.now());
  } finally {
    await store.close?.();
  }

  const show = await mlops('runs', 'show', runId);
  assert.match(show, new RegExp(`artifacts ${ROOT}/0/${runId}/artifacts`));
  assert.match(show, /metrics\.json\s+10\b/);
  assert.match(show, /models\/model\.bin\s+300\b/);

  const ui = await startUi({ project: Project.open(dir, { cwd: dir, env: {} }), host: '127.0.0.1', port: 0, allowWrites: false });
  t.after(() => ui.close());
  const detail = (await (await fetch(`${ui.url}/api/runs/${runId}`)).json()) as { artifacts: { path: string; size: number; kind: string }[] | null };
  assert.deepEqual(detail.artifacts, [{ path: 'metrics.json', size: 10, kind: 'json' }, { path: 'models/model.bin', size: 300, kind: 'binary' }]);
  const preview = await fetch(`${ui.url}/api/runs/${runId}/artifact?path=metrics.json`);
  assert.equal(preview.status, 200);
  assert.deepEqual(await preview.json(), { f1: 0.9 });
  assert.equal((await fetch(`${ui.url}/api/runs/${runId}/artifact?path=nothing.json`)).status, 404);

  // tracking migrate to a folder store copies the bucket's artifacts into mlruns/.
  await mlops('tracking', 'migrate', '--from', 'sqlite:///mlflow.db', '--to', 'copy');
  const copied = join(dir, 'copy', '0', runId, 'artifacts');
  assert.equal(readFileSync(join(copied, 'models', 'model.bin'), 'utf8'), 'x'.repeat(300));
  assert.deepEqual(JSON.parse(readFileSync(join(copied, 'metrics.json'), 'utf8')), { f1: 0.9 });
});

test('train logs its model to the S3 artifact root, and models register --run registers it from there', async (t) => {
  const { dir, server } = await s3Project(t);
  writeFiles(dir, {
    'params.yaml': smallParams({ grid: { n_estimators: [5], max_depth: [4] }, rest: '' }),
    'data/raw/obesity.csv': generateObesity(200, 11),
    '.mlops/.gitignore': '*\n',
  });
  gitInit(dir);
  for (const stage of ['prepare', 'train']) {
    const r = await runMlops([stage], { cwd: dir });
    assert.equal(r.code, 0, `${stage}: ${r.stderr}`);
  }
  const runs = JSON.parse((await runMlops(['runs', 'list', '--filter', "tags.`mlops.stage` = 'train'", '--json'], { cwd: dir })).stdout) as { info: { run_id: string; artifact_uri: string; experiment_id: string }; tags: Record<string, string> }[];
  const train = runs.find((r) => !r.tags['mlflow.parentRunId'])!;
  assert.match(train.info.artifact_uri, new RegExp(`^${ROOT}/\\d+/${train.info.run_id}/artifacts$`));
  const key = `team/mlflow/${train.info.experiment_id}/${train.info.run_id}/artifacts/model.json`;
  assert.equal(readFileSync(s3Object(server, key), 'utf8'), readFileSync(join(dir, 'models', 'model.json'), 'utf8'), 'the trained model, in the bucket');
  assert.ok(!existsSync(join(dir, 'mlartifacts')), 'no local artifact folder');

  const r = await runMlops(['models', 'register', 'clf', '--run', train.info.run_id], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`registered clf version 1 from runs:/${train.info.run_id}/model.json`));
});
