import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Papa from 'papaparse';
import { BatchedPredictionLog } from '../src/predictions/batched.js';
import { predictionBackend } from '../src/predictions/open.js';
import { record } from './prediction-log-contract.js';
import { runMlops, writeFiles } from './helpers.js';

// `mlops predictions list|export` as a user runs them, on a log in the project's default place.

let dir: string;
const HOUR = 3600_000;
const now = Date.now();

after(() => rmSync(dir, { recursive: true, force: true }));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-predictions-'));
  writeFiles(dir, { '.mlops/config': '' });
  const backend = predictionBackend(join(dir, '.mlops', 'predictions.db'), dir);
  const log = new BatchedPredictionLog(await backend.sink(), (e) => assert.fail(e));
  // Ten rows an hour apart, the newest an hour ago: req-0 (10 h ago) ... req-9 (1 h ago); req-8 and req-9 are reg's.
  log.append([...Array(10).keys()].map((i) => record(i, { time: new Date(now - (10 - i) * HOUR).toISOString(), ...(i >= 8 ? { model: { name: 'reg', version: 3 }, prediction: 20.5 + i, probabilities: undefined } : {}) })));
  await log.close();
});

const mlops = (...args: string[]) => runMlops(['predictions', ...args], { cwd: dir, env: { MLOPS_ROOT: dir } });

test('list: the newest rows as a table, oldest first; --limit, --model, --model-version, --since, --from/--to', async () => {
  const r = await mlops('list', '--limit', '3');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^time +request_id +model +version +prediction +probability +latency_ms$/);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/ +/)[1]), ['req-7', 'req-8', 'req-9']);
  assert.match(lines[1]!, /req-7 +clf +2 +Normal_Weight +0\.250 +7\.50$/);
  assert.match(lines[3]!, /req-9 +reg +3 +29\.5 +9\.50$/);
  const ids = async (...args: string[]) => JSON.parse((await mlops('list', '--json', ...args)).stdout).map((x: { request_id: string }) => x.request_id);
  assert.deepEqual(await ids('--model', 'clf', '--model-version', '1'), ['req-0', 'req-2', 'req-4', 'req-6']);
  assert.deepEqual(await ids('--since', '2.5h'), ['req-8', 'req-9']);
  assert.deepEqual(await ids('--from', new Date(now - 5.5 * HOUR).toISOString(), '--to', new Date(now - 3.5 * HOUR).toISOString()), ['req-5', 'req-6']);
  const json = JSON.parse((await mlops('list', '--json', '--limit', '1')).stdout);
  assert.deepEqual(json, [{ ...record(9), time: json[0].time, model: { name: 'reg', version: 3 }, prediction: 29.5, probabilities: undefined }].map((x) => JSON.parse(JSON.stringify(x))));
});

test('export: every matching row as CSV (input columns, probabilities) or JSON lines, to stdout or a file', async () => {
  const r = await mlops('export', '--model', 'clf');
  assert.equal(r.code, 0, r.stderr);
  const csv = Papa.parse<Record<string, string>>(r.stdout, { header: true, skipEmptyLines: true });
  assert.deepEqual(csv.meta.fields, ['request_id', 'time', 'model', 'version', 'prediction', 'Age', 'Gender', 'CALC', 'probability_Normal_Weight', 'probability_Obesity_Type_I', 'latency_ms']);
  assert.equal(csv.data.length, 8);
  assert.deepEqual(csv.data[1], { request_id: 'req-1', time: new Date(now - 9 * HOUR).toISOString(), model: 'clf', version: '2', prediction: 'Normal_Weight', Age: '21', Gender: 'Male', CALC: '', probability_Normal_Weight: '0.25', probability_Obesity_Type_I: '0.75', latency_ms: '1.5' });
  const out = join(dir, 'out', 'all.jsonl');
  assert.equal((await mlops('export', '--json', '-o', out)).code, 0);
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.request_id), [...Array(10).keys()].map((i) => `req-${i}`));
  assert.deepEqual(lines[0].input, { Age: 20, Gender: 'Female', CALC: null });
});

test('bad options: exit 2 with one line naming the option', async () => {
  const cases: [string[], RegExp][] = [
    [['list', '--since', 'yesterday'], /--since: expected a duration \(30m, 12h, 7d, 2w\) or an ISO 8601 time, got "yesterday"/],
    [['list', '--from', '31/01/2026'], /--from: expected an ISO 8601 date or time/],
    [['list', '--limit', '0'], /--limit: expected a positive integer, got "0"/],
    [['list', '--model-version', '2'], /--model-version needs --model/],
    [['export', '--from', '2026-02-01', '--to', '2026-01-01'], /--to \(2026-01-01T00:00:00.000Z\) must be after the start/],
    [['list', '--json', '--csv'], /cannot be used with/],
  ];
  for (const [args, message] of cases) {
    const r = await mlops(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
