import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateObesity } from '../src/ml/synthetic.js';
import { validateRegistryLayout } from './registry-validator.js';
import { gitInit, runMlops, tempDir, writeFiles, type RunResult, gridYaml, smallParams, type SmallParams } from './helpers.js';

// `mlops models` end to end through the real CLI, on a small generated data set and real trained
// models: registration with lineage, gates on real evaluations, history, rollback, URIs, bad input.

const REGISTRY = 'registry:\n  gates:\n    accuracy: {min: 0.3}\n  challenger:\n    metric: f1_macro\n    tolerance: 0.0\n';
const params = (grid: Grid, registry = REGISTRY) => smallParams({ grid, rest: `evaluate:\n  permutation_repeats: 1\n${registry}` });

type Grid = NonNullable<SmallParams['grid']>;
const GOOD: Grid = { n_estimators: [20], max_depth: [8] };
const WORSE: Grid = { n_estimators: [1], max_depth: [1] };
const OTHER: Grid = { n_estimators: [5], max_depth: [3] };

async function ok(dir: string, ...args: string[]): Promise<RunResult> {
  const r = await runMlops(args, { cwd: dir });
  assert.equal(r.code, 0, `mlops ${args.join(' ')}: ${r.stderr}`);
  return r;
}

const json = async (dir: string, ...args: string[]) => JSON.parse((await ok(dir, ...args)).stdout);

/** A git project with prepared data and a trained model (the GOOD grid). */
async function project(t: { after(fn: () => void): void }, registry?: string): Promise<string> {
  const dir = tempDir(t);
  // `.mlops/` marks the root, so a stray `.mlops` in a folder above cannot claim the project.
  writeFiles(dir, { 'params.yaml': params(GOOD, registry), 'data/raw/obesity.csv': generateObesity(240, 11), '.mlops/.gitignore': '*\n' });
  gitInit(dir);
  await ok(dir, 'prepare');
  await ok(dir, 'train');
  return dir;
}

async function retrain(dir: string, grid: Grid): Promise<void> {
  const text = readFileSync(join(dir, 'params.yaml'), 'utf8');
  writeFileSync(join(dir, 'params.yaml'), text.replace(/ {4}n_estimators: .*\n {4}max_depth: .*\n/, gridYaml(grid)));
  await ok(dir, 'train');
}

/** Every file under the registry with its content: "nothing written" compares two of these. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (abs: string, rel: string) => {
    if (!existsSync(abs)) return;
    for (const name of readdirSync(abs)) {
      const a = join(abs, name);
      if (statSync(a).isDirectory()) walk(a, `${rel}${name}/`);
      else out[`${rel}${name}`] = readFileSync(a, 'utf8');
    }
  };
  walk(join(dir, 'mlruns', 'models'), '');
  return out;
}

test('register, list, show, history: JSON shapes, lineage, and the same content twice is a no-op', async (t) => {
  const dir = await project(t);
  const first = await ok(dir, 'models', 'register', 'clf', '--description', 'baseline');
  assert.match(first.stdout, /^registered clf version 1 from models\/model.json$/m);
  const before = snapshot(dir);
  const again = await ok(dir, 'models', 'register', 'clf');
  assert.match(again.stdout, /already registered: this content is version 1 of clf; nothing written/);
  assert.deepEqual(snapshot(dir), before);

  const { models } = await json(dir, 'models', 'list', '--json');
  assert.equal(models.length, 1, 'one model so far');
  assert.deepEqual([models[0].name, models[0].latest_version, models[0].aliases], ['clf', 1, {}]);
  const shown = await json(dir, 'models', 'show', 'clf', '--json');
  assert.equal(shown.name, 'clf');
  assert.equal(shown.versions.length, 1);
  const v = shown.versions[0];
  assert.deepEqual([v.version, v.status, v.description, v.integrity], [1, 'READY', 'baseline', 'ok']);
  // Lineage: the train run that logged this very model, the commit, the data and params by md5.
  const runs = await json(dir, 'runs', 'list', '--json', '--filter', "tags.`mlops.stage` = 'train'");
  const parents = runs.filter((r: { tags: Record<string, string> }) => !r.tags['mlflow.parentRunId']);
  assert.equal(parents.length, 1);
  assert.equal(v.run_id, parents[0].run_id);
  assert.equal(v.lineage.run_id, v.run_id);
  assert.match(v.lineage.git_commit, /^[0-9a-f]{40}$/);
  assert.equal(v.lineage.git_dirty, false);
  assert.deepEqual(Object.keys(v.lineage).sort(), ['git_commit', 'git_dirty', 'params', 'raw_data', 'run_id', 'source', 'test_data', 'train_data']);
  assert.equal(v.lineage.raw_data.path, 'data/raw/obesity.csv');
  assert.match(v.lineage.raw_data.md5, /^[0-9a-f]{32}$/);
  assert.equal(v.lineage.test_data.path, 'data/prepared/test.csv');
  // The metrics are evaluate's, on the same test data.
  const evaluated = await json(dir, 'evaluate', '--json');
  assert.equal(v.metrics.accuracy, evaluated.accuracy);
  assert.equal(v.metrics.log_loss, evaluated.log_loss);
  // The files are content-addressed objects in the project's cache.
  assert.equal(readFileSync(join(dir, '.mlops', 'cache', 'files', 'md5', v.files['model.json'].slice(0, 2), v.files['model.json'].slice(2)), 'utf8'), readFileSync(join(dir, 'models', 'model.json'), 'utf8'));

  // The same model taken from the run that logged it: same content, the run as its source.
  const fromRun = await json(dir, 'models', 'register', 'from_run', '--run', v.run_id, '--json');
  assert.deepEqual([fromRun.created, fromRun.source, fromRun.content, fromRun.run_id], [true, `runs:/${v.run_id}/model.json`, v.content, v.run_id]);
  const unknownRun = await runMlops(['models', 'register', 'x', '--run', 'f'.repeat(32)], { cwd: dir });
  assert.equal(unknownRun.code, 2);
  assert.match(unknownRun.stderr, /no run with id/);

  assert.deepEqual(await json(dir, 'models', 'history', 'clf', '--json'), { events: [] });
  const md = await ok(dir, 'models', 'list', '--md');
  assert.match(md.stdout, /^\| name \| latest \| aliases \| description \|\n\|---\|/);
  assert.match((await ok(dir, 'models', 'show', 'clf', '1', '--md')).stdout, /^### Model clf\n\n\| version \|[^]*- raw data: data\/raw\/obesity.csv \(md5 [0-9a-f]{32}\)/);
  assert.deepEqual(validateRegistryLayout(join(dir, 'mlruns')), []);
});

test('promote behind absolute and champion/challenger gates on real evaluations; dry run, force, no-op, rollback', async (t) => {
  const dir = await project(t);
  await ok(dir, 'models', 'register', 'clf');
  const p1 = await ok(dir, 'models', 'promote', 'clf', '1');
  assert.match(p1.stdout, /accuracy >= 0.3 +\d\.\d{4} +0\.3000 +pass/);
  assert.match(p1.stdout, /^promoted clf champion: - -> v1$/m);

  await retrain(dir, WORSE);
  await ok(dir, 'models', 'register', 'clf');
  const f1 = async (uri: string) => (await json(dir, 'evaluate', '--model', uri, '--json')).f1_macro;
  const [champion, candidate] = [await f1('models:/clf/1'), await f1('models:/clf/2')];
  assert.ok(candidate < champion, 'the one-tree stump is worse');

  const before = snapshot(dir);
  const dry = await runMlops(['models', 'promote', 'clf', 'latest', '--dry-run', '--json'], { cwd: dir });
  assert.equal(dry.code, 1);
  const report = JSON.parse(dry.stdout);
  assert.equal(report.outcome, 'dry-run');
  const challenge = report.report.checks.find((c: { gate: string }) => c.gate.startsWith('f1_macro not worse than champion v1'));
  assert.deepEqual([challenge.value, challenge.limit, challenge.passed], [candidate, champion, false], 'both scored on the same current test data');
  assert.deepEqual(snapshot(dir), before, 'a dry run moves nothing');

  const refused = await runMlops(['models', 'promote', 'clf', '2', '--md'], { cwd: dir });
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /^### Promotion gates: clf v2 -> champion\n\n\| gate \| value \| limit \| result \|/);
  assert.match(refused.stdout, /\| f1_macro not worse than champion v1 by more than 0 \| [\d.]+ \| [\d.]+ \| FAIL \|/);
  assert.match(refused.stderr, /refused clf champion: v1 -> v2; champion stays at v1; failed: .*f1_macro not worse than champion v1/);
  assert.deepEqual(snapshot(dir), before, 'a refused promotion writes nothing');

  // An absolute gate the candidate misses, named in the report.
  writeFileSync(join(dir, 'params.yaml'), readFileSync(join(dir, 'params.yaml'), 'utf8').replace('{min: 0.3}', '{min: 0.99}'));
  const absolute = await runMlops(['models', 'promote', 'clf', '2'], { cwd: dir });
  assert.equal(absolute.code, 1);
  assert.match(absolute.stdout, /accuracy >= 0.99 +[\d.]+ +0\.9900 +FAIL/);

  const noReason = await runMlops(['models', 'promote', 'clf', '2', '--force'], { cwd: dir });
  assert.equal(noReason.code, 2);
  assert.match(noReason.stderr, /--force needs --reason/);
  await ok(dir, 'models', 'promote', 'clf', '2', '--force', '--reason', 'hotfix for a data bug');
  assert.match((await ok(dir, 'models', 'promote', 'clf', '2', '--force', '--reason', 'again')).stdout, /champion already points at v2; nothing to do/);

  await retrain(dir, OTHER);
  await ok(dir, 'models', 'register', 'clf');
  await ok(dir, 'models', 'promote', 'clf', '3', '--force', '--reason', 'third');
  const events = (await json(dir, 'models', 'history', 'clf', '--json')).events;
  assert.deepEqual(events.map((e: { from: number | null; to: number }) => [e.from, e.to]), [[null, 1], [1, 2], [2, 3]]);
  assert.equal(events[0].reason, 'gates passed: accuracy >= 0.3', 'no champion yet: only the absolute gate');
  assert.equal(events[1].reason, 'forced: hotfix for a data bug');
  assert.equal(events[1].forced, true);
  assert.equal(events[0].gates.passed, true);

  assert.match((await ok(dir, 'models', 'rollback', 'clf')).stdout, /rolled back clf champion: v3 -> v2/);
  assert.match((await ok(dir, 'models', 'rollback', 'clf')).stdout, /rolled back clf champion: v2 -> v1/);
  const none = await runMlops(['models', 'rollback', 'clf'], { cwd: dir });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no earlier version held champion of model "clf"/);
  const after = (await json(dir, 'models', 'history', 'clf', '--json')).events;
  assert.deepEqual(after.slice(3).map((e: { action: string; from: number; to: number }) => [e.action, e.from, e.to]), [['rollback', 3, 2], ['rollback', 2, 1]]);
  assert.deepEqual((await json(dir, 'models', 'list', '--json')).models[0].aliases, { champion: 1 });
  assert.deepEqual(validateRegistryLayout(join(dir, 'mlruns')), []);
});

test('alias and --delete, delete refused while aliased unless --force, describe', async (t) => {
  const dir = await project(t);
  await ok(dir, 'models', 'register', 'clf', '--alias', 'staging');
  assert.deepEqual((await json(dir, 'models', 'show', 'clf', 'staging', '--json')).aliases, ['staging']);
  await ok(dir, 'models', 'alias', 'clf', '1', 'champion');
  const refused = await runMlops(['models', 'delete', 'clf', '1'], { cwd: dir });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /refused: champion \(v1\), staging \(v1\) still point at it/);
  await ok(dir, 'models', 'alias', 'clf', 'staging', '--delete');
  assert.deepEqual((await json(dir, 'models', 'list', '--json')).models[0].aliases, { champion: 1 });
  await ok(dir, 'models', 'describe', 'clf', 'predicts obesity levels');
  await ok(dir, 'models', 'describe', 'clf', '1', 'first forest');
  const shown = await json(dir, 'models', 'show', 'clf', '--json');
  assert.equal(shown.description, 'predicts obesity levels');
  assert.equal(shown.versions[0].description, 'first forest');
  await ok(dir, 'models', 'delete', 'clf', '1', '--force');
  assert.deepEqual((await json(dir, 'models', 'show', 'clf', '--json')).versions, []);
  const events = (await json(dir, 'models', 'history', 'clf', '--json')).events;
  assert.deepEqual(events.map((e: { action: string; alias: string; to: number | null }) => [e.action, e.alias, e.to]), [
    ['alias', 'staging', 1], ['alias', 'champion', 1], ['delete', 'staging', null], ['delete', 'champion', null],
  ]);
  await ok(dir, 'models', 'delete', 'clf');
  assert.deepEqual(await json(dir, 'models', 'list', '--json'), { models: [] });
});

test('bad input: one clear line, exit 2, nothing written', async (t) => {
  const dir = await project(t, 'registry:\n  gates:\n    acuracy: {min: 0.5}\n');
  writeFiles(dir, { 'foreign/model.json': '{"weights": [1, 2]}', 'foreign/transform.json': '{}' });
  const cases: [string[], RegExp][] = [
    [['models', 'register', 'a/b'], /invalid model name "a\/b": it contains a path separator/],
    [['models', 'register', 'clf', '--alias', 'latest'], /invalid alias "latest": 'latest' is reserved/],
    [['models', 'register', 'clf', '--path', 'foreign/model.json'], /foreign\/model.json: not a mlops-model\/1 file/],
    [['models', 'register', 'clf', '--path', '../elsewhere/model.json'], /the model must be inside the project/],
    [['models', 'show', 'nope'], /no registered model named "nope"/],
    [['predict', '--model', 'models:/nope@champion', '--input', 'data/raw/obesity.csv'], /no registered model named "nope"/],
    [['predict', '--model', 'models:/clf', '--input', 'data/raw/obesity.csv'], /invalid model URI "models:\/clf"/],
  ];
  for (const [args, message] of cases) {
    const r = await runMlops(args, { cwd: dir });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.ok(!existsSync(join(dir, 'mlruns', 'models')) || Object.keys(snapshot(dir)).length === 0, 'no registry written');

  await ok(dir, 'models', 'register', 'clf');
  const before = snapshot(dir);
  const more: [string[], RegExp][] = [
    [['models', 'show', 'clf', '4'], /model "clf" has no version 4/],
    [['models', 'show', 'clf', 'staging'], /model "clf" has no alias "staging"/],
    [['models', 'promote', 'clf', '1'], /params.yaml:16: 'registry.gates.acuracy': unknown key \(did you mean 'accuracy'\?\)/],
    [['models', 'rollback', 'clf'], /model "clf" has no alias "champion"/],
    [['models', 'alias', 'clf', '1', 'v1'], /invalid alias "v1"/],
    [['models', 'delete', 'clf', 'x'], /invalid version "x"/],
  ];
  for (const [args, message] of more) {
    const r = await runMlops(args, { cwd: dir });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(snapshot(dir), before);
});

test('model URIs in predict, evaluate and drift', async (t) => {
  const dir = await project(t);
  await ok(dir, 'models', 'register', 'clf', '--alias', 'champion');
  const byPath = (await ok(dir, 'predict', '--model', 'models/model.json', '--input', 'data/raw/obesity.csv')).stdout;
  for (const uri of ['models:/clf@champion', 'models:/clf/1', 'models:/clf/latest']) {
    assert.equal((await ok(dir, 'predict', '--model', uri, '--input', 'data/raw/obesity.csv')).stdout, byPath, uri);
  }
  // The registered copy stays what was registered when the workspace model moves on.
  await retrain(dir, WORSE);
  assert.equal((await ok(dir, 'predict', '--model', 'models:/clf@champion', '--input', 'data/raw/obesity.csv')).stdout, byPath);
  assert.notEqual((await ok(dir, 'predict', '--model', 'models/model.json', '--input', 'data/raw/obesity.csv')).stdout, byPath);
  const registered = (await json(dir, 'models', 'show', 'clf', '1', '--json')).metrics;
  const evaluated = await json(dir, 'evaluate', '--model', 'models:/clf@champion', '--json');
  assert.equal(evaluated.f1_macro, registered.f1_macro);
  const drift = await json(dir, 'drift', '--reference', 'models:/clf@champion', '--current', 'data/raw/obesity.csv', '--json');
  assert.equal(drift.drift, false);
  // A changed reference is not the data the version was trained on.
  writeFileSync(join(dir, 'data/raw/obesity.csv'), generateObesity(240, 12));
  const changed = await runMlops(['drift', '--reference', 'models:/clf@champion', '--current', 'data/raw/obesity.csv'], { cwd: dir });
  assert.equal(changed.code, 2);
  assert.match(changed.stderr, /data\/raw\/obesity.csv is not the data version 1 was trained on/);
});

test('a damaged version is reported and never promoted or served', async (t) => {
  const dir = await project(t);
  const { version } = await json(dir, 'models', 'register', 'clf', '--json');
  assert.equal(version, 1);
  const md5 = (await json(dir, 'models', 'show', 'clf', '1', '--json')).files['model.json'];
  const object = join(dir, '.mlops', 'cache', 'files', 'md5', md5.slice(0, 2), md5.slice(2));
  chmodSync(object, 0o644);
  writeFileSync(object, readFileSync(object, 'utf8').replace('"model"', '"model" '));
  assert.match((await json(dir, 'models', 'show', 'clf', '1', '--json')).integrity, /^DAMAGED: model.json no longer matches its md5/);
  for (const args of [['models', 'promote', 'clf', '1'], ['models', 'promote', 'clf', '1', '--force', '--reason', 'x'], ['predict', '--model', 'models:/clf/1', '--input', 'data/raw/obesity.csv']]) {
    const r = await runMlops(args, { cwd: dir });
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /version 1 of model "clf" is damaged \(model.json no longer matches its md5 [0-9a-f]{32}\); it is never served or promoted/);
  }
  assert.deepEqual((await json(dir, 'models', 'list', '--json')).models[0].aliases, {});

  // A tampered record cannot turn an md5 into a path outside the store: one located error instead.
  const record = join(dir, 'mlruns', 'models', 'clf', 'version-1', 'mlops-version.json');
  writeFileSync(record, readFileSync(record, 'utf8').replace(md5, '../../../../etc/passwd'));
  const tampered = await runMlops(['predict', '--model', 'models:/clf/1', '--input', 'data/raw/obesity.csv'], { cwd: dir });
  assert.equal(tampered.code, 2);
  assert.match(tampered.stderr, /mlops-version.json: damaged registry file \(unexpected content\)/);
});

test('concurrent promotes and rollbacks from separate processes never lose a history entry', async (t) => {
  const dir = await project(t);
  await ok(dir, 'models', 'register', 'clf');
  await retrain(dir, OTHER);
  await ok(dir, 'models', 'register', 'clf');
  await ok(dir, 'models', 'alias', 'clf', '1', 'champion');
  const moves = Array.from({ length: 8 }, (_, i) =>
    i % 3 === 2 ? ['models', 'rollback', 'clf'] : ['models', 'promote', 'clf', String((i % 2) + 1), '--force', '--reason', `p${i}`],
  );
  const results = await Promise.all(moves.map((args) => runMlops(args, { cwd: dir })));
  for (const r of results) assert.ok(r.code === 0 || /no earlier version/.test(r.stderr), r.stderr);
  const moved = results.filter((r) => /^(promoted|rolled back)/m.test(r.stdout)).length;
  const events = (await json(dir, 'models', 'history', 'clf', '--json')).events;
  assert.equal(events.length, 1 + moved, 'one history entry per move that happened');
  // Serialized: each move starts where the previous one left the alias.
  for (let i = 1; i < events.length; i++) assert.equal(events[i].from, events[i - 1].to, JSON.stringify(events));
  assert.equal((await json(dir, 'models', 'list', '--json')).models[0].aliases.champion, events.at(-1).to);
  assert.deepEqual(validateRegistryLayout(join(dir, 'mlruns')), []);
});
