import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileStore } from '../src/tracking/file-store.js';
import { runMlops, tempDir, writeFiles } from './helpers.js';
import { validateMlruns } from './tracking-validator.js';

interface RunJson {
  run_id: string;
  info: { run_name: string; status: string; lifecycle_stage: string; experiment_id: string };
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

/** A project with four finished runs of a grid search in the 'forest' experiment. */
async function project(t: { after(fn: () => void): void }): Promise<{ root: string; ids: string[]; store: FileStore }> {
  const root = tempDir(t);
  writeFiles(root, { '.mlops/config': '[tracking]\n    experiment = forest\n' });
  const store = new FileStore(join(root, 'mlruns'));
  const experimentId = await store.getOrCreateExperiment('forest');
  const ids: string[] = [];
  for (const [i, [depth, f1]] of ([['5', 0.88], ['10', 0.93], ['10', 0.91], ['20', 0.95]] as const).entries()) {
    const info = await store.createRun({ experimentId, runName: `cand-${i}`, userId: 'tester', startTime: 1_700_000_000_000 + i, tags: { 'mlops.stage': 'train' } });
    await store.logParams(info.run_id, { max_depth: depth, criterion: 'gini' });
    await store.logMetrics(info.run_id, [
      { key: 'f1_macro', value: f1 - 0.1, step: 0, timestamp: 1 },
      { key: 'f1_macro', value: f1, step: 1, timestamp: 2 },
    ]);
    await store.setStatus(info.run_id, 'FINISHED', 1_700_000_100_000);
    ids.push(info.run_id);
  }
  return { root, ids, store };
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out[join(entry.parentPath, entry.name)] = readFileSync(join(entry.parentPath, entry.name), 'utf8');
  }
  return out;
}

test('runs list: JSON with run_id, info, params, latest metrics and tags; filter, order-by and max', async (t) => {
  const { root, ids } = await project(t);
  const all = await runMlops(['runs', 'list', '--json'], { cwd: root });
  assert.equal(all.code, 0, all.stderr);
  const runs = JSON.parse(all.stdout) as RunJson[];
  assert.deepEqual(runs.map((r) => r.run_id), [...ids].reverse(), 'newest first by default');
  const first = runs.find((r) => r.run_id === ids[1])!;
  assert.deepEqual(first.params, { criterion: 'gini', max_depth: '10' });
  assert.equal(first.metrics.f1_macro, 0.93, 'the latest value (highest step)');
  assert.equal(first.info.status, 'FINISHED');
  assert.equal(first.tags['mlflow.runName'], 'cand-1');

  const filtered = await runMlops(['runs', 'list', '--filter', "metrics.f1_macro > 0.9 and params.max_depth = '10'", '--order-by', 'metrics.f1_macro DESC', '--json'], { cwd: root });
  assert.deepEqual((JSON.parse(filtered.stdout) as RunJson[]).map((r) => r.info.run_name), ['cand-1', 'cand-2']);

  const top = await runMlops(['runs', 'list', '--order-by', 'metrics.f1_macro DESC', '--max', '2', '--experiment', 'forest'], { cwd: root });
  assert.equal(top.code, 0);
  const lines = top.stdout.trim().split('\n');
  assert.match(lines[0]!, /^RUN ID\s+NAME\s+STAGE\s+STATUS\s+START \(UTC\)\s+metrics\.f1_macro$/);
  assert.equal(lines.length, 3);
  assert.match(lines[1]!, new RegExp(`^${ids[3]}\\s+cand-3\\s+train\\s+FINISHED\\s+2023-11-14 22:13:20\\s+0\\.95$`));

  const or = await runMlops(['runs', 'list', '--filter', "params.max_depth = '5' OR (params.max_depth = '20' AND metrics.f1_macro > 0.9)", '--json'], { cwd: root });
  assert.deepEqual((JSON.parse(or.stdout) as RunJson[]).map((r) => r.info.run_name), ['cand-3', 'cand-0']);
});

test('bad input: malformed filter, unknown experiment, unknown or invalid run id: exit 2, nothing modified', async (t) => {
  const { root } = await project(t);
  const before = snapshot(join(root, 'mlruns'));
  const cases: [string[], RegExp][] = [
    [['runs', 'list', '--filter', "metrics.f1_macro > 0.9 and params.max_depth = 10"], /^error: invalid filter at column 47 \("10"\): expected a quoted string to compare params\.max_depth with\n$/],
    [['runs', 'list', '--order-by', 'metrics.f1 sideways'], /invalid order-by at column 12 \("sideways"\)/],
    [['runs', 'list', '--experiment', 'forset'], /no experiment named 'forset' in mlruns \(did you mean 'forest'\?\)/],
    [['runs', 'list', '--max', '0'], /--max expects a positive integer/],
    [['runs', 'show', 'a'.repeat(32)], /no run with id 'a{32}' in mlruns/],
    [['runs', 'show', '../etc'], /invalid run id '\.\.\/etc'/],
    [['runs', 'delete', 'b'.repeat(32)], /no run with id/],
    [['runs', 'compare', 'c'.repeat(32)], /no run with id/],
  ];
  for (const [args, message] of cases) {
    const r = await runMlops(args, { cwd: root });
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '');
  }
  assert.deepEqual(snapshot(join(root, 'mlruns')), before);
});

test('runs show: info, params, metrics with min/max/steps, tags; JSON with metric history', async (t) => {
  const { root, ids } = await project(t);
  const text = await runMlops(['runs', 'show', ids[1]!], { cwd: root });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^run ${ids[1]}  cand-1\n  status FINISHED`));
  assert.match(text.stdout, /^f1_macro\s+0\.93\s+0\.83\s+0\.93\s+2$/m);
  assert.match(text.stdout, /^max_depth\s+10$/m);
  const json = JSON.parse((await runMlops(['runs', 'show', ids[1]!, '--json'], { cwd: root })).stdout) as RunJson & { metric_history: Record<string, { value: number; step: number }[]> };
  assert.equal(json.run_id, ids[1]);
  assert.deepEqual(json.metric_history.f1_macro!.map((m) => [m.step, m.value]), [[0, 0.93 - 0.1], [1, 0.93]]);
});

test('runs compare: differing params marked in text, a differs flag in JSON, --only-diff', async (t) => {
  const { root, ids } = await project(t);
  const json = JSON.parse((await runMlops(['runs', 'compare', ids[1]!, ids[2]!, ids[3]!, '--json'], { cwd: root })).stdout) as {
    runs: { run_id: string }[];
    params: Record<string, { values: string[]; differs: boolean }>;
    metrics: Record<string, { values: number[]; differs: boolean }>;
  };
  assert.deepEqual(json.runs.map((r) => r.run_id), [ids[1], ids[2], ids[3]]);
  assert.deepEqual(json.params.max_depth, { values: ['10', '10', '20'], differs: true });
  assert.deepEqual(json.params.criterion, { values: ['gini', 'gini', 'gini'], differs: false });
  assert.deepEqual(json.metrics.f1_macro, { values: [0.93, 0.91, 0.95], differs: true });

  const text = await runMlops(['runs', 'compare', ids[1]!, ids[2]!], { cwd: root });
  assert.match(text.stdout, /^\s+params\.criterion\s+gini\s+gini$/m, 'same value: no marker');
  assert.match(text.stdout, /^\*\s+metrics\.f1_macro\s+0\.93\s+0\.91$/m, 'differing value: marked');
  assert.doesNotMatch(text.stdout, /\u001b\[/, 'no colour when not on a terminal');
  const only = await runMlops(['runs', 'compare', ids[1]!, ids[2]!, '--only-diff'], { cwd: root });
  assert.doesNotMatch(only.stdout, /criterion|max_depth/);
  assert.match(only.stdout, /metrics\.f1_macro/);
});

test('runs delete: soft delete as MLflow does; hidden from list, shown with --deleted', async (t) => {
  const { root, ids, store } = await project(t);
  const r = await runMlops(['runs', 'delete', ids[0]!], { cwd: root });
  assert.equal(r.code, 0, r.stderr);
  const meta = readFileSync(join(root, 'mlruns', (await store.getRun(ids[0]!)).info.experiment_id, ids[0]!, 'meta.yaml'), 'utf8');
  assert.match(meta, /^lifecycle_stage: deleted$/m);
  assert.match(meta, /^deleted_time: \d{13}$/m);
  const listed = JSON.parse((await runMlops(['runs', 'list', '--json'], { cwd: root })).stdout) as RunJson[];
  assert.ok(!listed.some((run) => run.run_id === ids[0]));
  assert.equal(listed.length, 3);
  const deleted = JSON.parse((await runMlops(['runs', 'list', '--deleted', '--json'], { cwd: root })).stdout) as RunJson[];
  assert.deepEqual(deleted.map((run) => run.run_id), [ids[0]]);
  assert.deepEqual(validateMlruns(join(root, 'mlruns')), []);
  const again = await runMlops(['runs', 'delete', ids[0]!], { cwd: root });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already deleted/);
});

test('a corrupted meta.yaml: that run reported on stderr and skipped, the others listed, exit 2, nothing modified', async (t) => {
  const { root, ids, store } = await project(t);
  const experimentId = (await store.getRun(ids[0]!)).info.experiment_id;
  const broken = join(root, 'mlruns', experimentId, ids[2]!, 'meta.yaml');
  writeFileSync(broken, 'run_id: [unclosed\n');
  const wrongId = join(root, 'mlruns', experimentId, ids[3]!, 'meta.yaml');
  writeFileSync(wrongId, readFileSync(wrongId, 'utf8').replace(/^run_id: .*$/m, "run_id: 'someone-else'"));
  // A run interrupted before its meta.yaml was written is skipped silently, as MLflow does.
  writeFiles(join(root, 'mlruns', experimentId), { [`${'e'.repeat(32)}/params/max_depth`]: '3' });
  const before = snapshot(join(root, 'mlruns'));
  const r = await runMlops(['runs', 'list', '--json'], { cwd: root });
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stderr, /eeeeeeee/);
  assert.deepEqual((JSON.parse(r.stdout) as RunJson[]).map((run) => run.run_id).sort(), [ids[0], ids[1]].sort());
  assert.match(r.stderr, new RegExp(`warning: mlruns/${experimentId}/${ids[2]}/meta\\.yaml: invalid YAML .*; run skipped`));
  assert.match(r.stderr, new RegExp(`warning: mlruns/${experimentId}/${ids[3]}/meta\\.yaml: run_id 'someone-else' does not match the folder name`));
  assert.match(r.stderr, /error: 2 runs could not be read and were skipped/);
  const show = await runMlops(['runs', 'show', ids[2]!], { cwd: root });
  assert.equal(show.code, 2);
  assert.match(show.stderr, /^error: mlruns\/.*meta\.yaml: invalid YAML/);
  assert.deepEqual(snapshot(join(root, 'mlruns')), before);
});

test('experiments list, and an empty project lists nothing without creating mlruns/', async (t) => {
  const { root } = await project(t);
  const json = JSON.parse((await runMlops(['experiments', 'list', '--json'], { cwd: root })).stdout) as { experiment_id: string; name: string }[];
  assert.deepEqual(json.map((e) => e.name).sort(), ['Default', 'forest']);
  const text = await runMlops(['experiments', 'list'], { cwd: root });
  assert.match(text.stdout, /^0\s+Default\s+active/m);

  const empty = tempDir(t);
  const r = await runMlops(['runs', 'list'], { cwd: empty });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'no runs\n');
  assert.equal((await runMlops(['experiments', 'list'], { cwd: empty })).stdout, 'no experiments\n');
  assert.ok(!existsSync(join(empty, 'mlruns')));
});

test("runs list shows at most 1000 runs unless --max says otherwise (MLflow's search default), with a note", async (t) => {
  const root = tempDir(t);
  const runs: Record<string, string> = { 'mlruns/0/meta.yaml': "experiment_id: '0'\nname: Default\nlifecycle_stage: active\n" };
  for (let i = 0; i < 1001; i++) {
    const id = i.toString(16).padStart(32, '0');
    runs[`mlruns/0/${id}/meta.yaml`] = `run_id: '${id}'\nexperiment_id: '0'\nuser_id: me\nstart_time: ${1_700_000_000_000 + i}\nstatus: 3\n`;
  }
  writeFiles(root, runs);
  const capped = await runMlops(['runs', 'list', '--json'], { cwd: root });
  assert.equal(capped.code, 0, capped.stderr);
  const listed = (JSON.parse(capped.stdout) as RunJson[]).map((r) => r.run_id);
  assert.equal(listed.length, 1000);
  assert.equal(listed[0], (1000).toString(16).padStart(32, '0'), 'the newest first');
  assert.equal(capped.stderr, 'note: showing the first 1000 runs; use --max to see more\n');
  const all = await runMlops(['runs', 'list', '--json', '--max', '1001'], { cwd: root });
  assert.equal(JSON.parse(all.stdout).length, 1001);
  assert.equal(all.stderr, '');
});
