import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { migrate } from '../src/migrate/migrate.js';
import { FileModelRegistry } from '../src/registry/file-store.js';
import { FileStore } from '../src/tracking/file-store.js';
import { populate } from './migrate-fixture.js';
import { artifactContents, killedMigration, storeView } from './migrate-views.js';
import { MLOPS_BIN, runMlops, tempDir, writeFiles } from './helpers.js';
import { validateMlruns } from './tracking-validator.js';
import { validateRegistryLayout } from './registry-validator.js';

// `mlops tracking migrate` between two folder stores; the SQL stores' round trips are in
// tracking-migrate-sql.test.ts.

function fileStores(root: string, folder: string) {
  const mlruns = join(root, folder);
  return { tracking: new FileStore(mlruns, join(root, '.mlops', 'artifacts')), registry: new FileModelRegistry(mlruns) };
}

async function sourceProject(t: { after(fn: () => void): void }, runs?: number) {
  const root = tempDir(t);
  writeFiles(root, { '.mlops/config': '[tracking]\n    experiment = forest\n' });
  const from = fileStores(root, 'mlruns');
  const fixture = await populate(from.tracking, from.registry, tempDir(t), runs);
  return { root, from, fixture };
}

const summaryCounts = (line: string) => Object.fromEntries([...line.matchAll(/(\d+) ([a-z ]+?)(?=,| from)/g)].map((m) => [m[2]!.replace(/s$/, ''), Number(m[1])]));

test('migrate file -> file: everything copied, equal as the CLI shows it; a second run copies nothing', async (t) => {
  const { root, from, fixture } = await sourceProject(t);
  const dry = await runMlops(['tracking', 'migrate', '--from', 'mlruns', '--to', 'copy', '--dry-run'], { cwd: root });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^would copy 3 experiments, 12 runs, 36 params, /);
  assert.equal(dry.stdout.split('\n').length, 2, 'one summary line');
  assert.equal(summaryCounts(dry.stdout)['metric value'], fixture.metricValues, 'every value of every history');

  const first = await runMlops(['tracking', 'migrate', '--from', 'mlruns', '--to', 'copy'], { cwd: root });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout.replace(/^copied/, 'would copy'), dry.stdout, 'the dry run counted what was then copied');
  const c = summaryCounts(first.stdout);
  assert.deepEqual([c.model, c['model version'], c['alias event'], c.artifact], [2, 4, 4, 12]);

  const to = fileStores(root, 'copy');
  assert.deepEqual(validateMlruns(join(root, 'copy')), []);
  assert.deepEqual(validateRegistryLayout(join(root, 'copy')), []);
  assert.deepEqual(
    await storeView(root, 'copy', fixture.runIds, join(root, 'copy')),
    await storeView(root, 'mlruns', fixture.runIds, join(root, 'mlruns')),
  );
  const scratch = tempDir(t);
  const copied = await artifactContents(to.tracking, fixture.runIds, scratch);
  assert.equal(Object.keys(copied).length, 12);
  assert.deepEqual(copied, await artifactContents(from.tracking, fixture.runIds, scratch));
  assert.deepEqual(await to.registry.exportModel('obesity_classifier'), await from.registry.exportModel('obesity_classifier'));
  for (const name of fixture.experiments) {
    const [a, b] = [await from.tracking.getExperimentByName(name), await to.tracking.getExperimentByName(name)];
    assert.deepEqual({ ...b, artifact_location: '' }, { ...a, artifact_location: '' });
  }

  const again = await runMlops(['tracking', 'migrate', '--from', 'mlruns', '--to', 'copy'], { cwd: root });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, 'nothing to copy: copy already holds everything in mlruns\n');
});

test('migrate: what is new in the source since the last migration is copied, and only that', async (t) => {
  const { root, from } = await sourceProject(t, 2);
  const to = fileStores(root, 'copy');
  await migrate(from, to);
  const [runId] = (await from.tracking.searchRuns({ experimentIds: [(await from.tracking.getExperimentByName('forest'))!.experiment_id] })).runs.map((r) => r.info.run_id);
  await from.tracking.logMetrics(runId!, [{ key: 'loss', value: 0.01, step: 99, timestamp: 5 }]);
  await from.tracking.setTags(runId!, { note: 'changed' });
  await from.registry.setAlias('drift_reference', 'champion', 1, { action: 'alias', user: 'u', reason: 'r' });
  const { counts } = await migrate(from, to);
  assert.deepEqual(counts, { experiments: 0, runs: 0, params: 0, metrics: 1, tags: 1, artifacts: 0, updates: 0, models: 0, versions: 0, events: 1, modelChanges: 1 });
  assert.deepEqual(await to.tracking.getMetricHistory(runId!, 'loss'), await from.tracking.getMetricHistory(runId!, 'loss'));
  assert.deepEqual(await to.registry.history('drift_reference'), await from.registry.history('drift_reference'));
  assert.deepEqual((await migrate(from, to)).counts, (await migrate(from, to, { dryRun: true })).counts);
});

test('migrate: bad input is one line, exit 2, nothing written', async (t) => {
  const { root } = await sourceProject(t, 1);
  const same = await runMlops(['tracking', 'migrate', '--from', 'mlruns', '--to', `file:${join(root, 'mlruns')}`], { cwd: root });
  assert.equal(same.code, 2);
  assert.match(same.stderr, /--from and --to are the same store/);
  const scheme = await runMlops(['tracking', 'migrate', '--from', 'mlruns', '--to', 'mongodb://x/y'], { cwd: root });
  assert.equal(scheme.code, 2);
  assert.match(scheme.stderr, /unsupported scheme 'mongodb:'/);
  const missing = await runMlops(['tracking', 'migrate', '--to', 'copy'], { cwd: root });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--from/);
});

test('migrate killed halfway (SIGKILL): running it again completes the copy, equal to the source', async (t) => {
  const { root, fixture } = await sourceProject(t, 40);
  const tmp = tempDir(t); // the migration's scratch folder, left behind by the kill
  const copiedRuns = () => readdirSync(join(root, 'copy'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\d+$/.test(e.name))
    .reduce((n, e) => n + readdirSync(join(root, 'copy', e.name)).filter((r) => existsSync(join(root, 'copy', e.name, r, 'meta.yaml'))).length, 0);
  await killedMigration(['--from', 'mlruns', '--to', 'copy'], root, { TMPDIR: tmp }, async () => existsSync(join(root, 'copy')) && copiedRuns() >= 20);
  const copied = copiedRuns();
  assert.ok(copied >= 20 && copied < 80, `killed with ${copied} of 80 runs copied`);
  const rest = await runMlops(['tracking', 'migrate', '--from', 'mlruns', '--to', 'copy'], { cwd: root, env: { TMPDIR: tmp } });
  assert.equal(rest.code, 0, rest.stderr);
  assert.match(rest.stdout, /^copied 0 experiments, \d+ runs, /);
  const to = fileStores(root, 'copy');
  const from = fileStores(root, 'mlruns');
  for (const id of fixture.runIds) {
    const [a, b] = [await from.tracking.getRun(id), await to.tracking.getRun(id)];
    assert.deepEqual({ ...b, info: { ...b.info, artifact_uri: '' } }, { ...a, info: { ...a.info, artifact_uri: '' } }, id);
    for (const key of Object.keys(a.metrics)) assert.deepEqual(await to.tracking.getMetricHistory(id, key), await from.tracking.getMetricHistory(id, key), `${id} ${key}`);
  }
  const scratch = tempDir(t);
  assert.deepEqual(await artifactContents(to.tracking, fixture.runIds, scratch), await artifactContents(from.tracking, fixture.runIds, scratch));
  assert.deepEqual(await to.registry.exportModel('obesity_classifier'), await from.registry.exportModel('obesity_classifier'));
  const again = await runMlops(['tracking', 'migrate', '--from', 'mlruns', '--to', 'copy'], { cwd: root, env: { TMPDIR: tmp } });
  assert.match(again.stdout, /^nothing to copy/);
});

test('migrate on a terminal: a progress bar on stderr, wiped at the end, then the summary line', async (t) => {
  const { root } = await sourceProject(t, 3);
  const env: Record<string, string | undefined> = { ...process.env, MLOPS_ROOT: '' };
  delete env.CI;
  const shown = spawnSync('script', ['-qfc', `stty cols 100; ${process.execPath} ${MLOPS_BIN} tracking migrate --from mlruns --to copy`, '/dev/null'], { cwd: root, env, encoding: 'utf8' });
  assert.equal(shown.status, 0, shown.stdout);
  assert.match(shown.stdout, /migrating \[#*-*\] \d+\/8 (run [0-9a-f]{32}|model \w+)/);
  assert.match(shown.stdout, /migrating \[#{30}\] 8\/8 model obesity_classifier/, 'the last item drawn');
  assert.match(shown.stdout, /\r\x1b\[2Kcopied 3 experiments, 6 runs, /, 'the bar wiped before the summary');
});

test('migrate: folder paths are taken from where the command runs; a missing --from folder is exit 2', async (t) => {
  const { root, fixture } = await sourceProject(t, 1);
  writeFiles(root, { 'sub/.keep': '' });
  const sub = join(root, 'sub');
  const typo = await runMlops(['tracking', 'migrate', '--from', 'mlrun', '--to', 'copy'], { cwd: sub });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /--from mlrun: no such folder/);
  assert.equal(existsSync(join(sub, 'copy')), false);
  const up = await runMlops(['tracking', 'migrate', '--from', '../mlruns', '--to', 'copy'], { cwd: sub });
  assert.equal(up.code, 0, up.stderr);
  assert.equal(summaryCounts(up.stdout).run, fixture.runIds.length);
  assert.ok(existsSync(join(sub, 'copy')), 'the copy is made in the folder the command ran in');
});
