import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateObesity } from '../src/ml/synthetic.js';
import { Project } from '../src/project/project.js';
import { openPredictionReader } from '../src/predictions/open.js';
import type { PredictionRecord } from '../src/predictions/record.js';
import { startServer, type RunningServer, type ServeOptions } from '../src/serve/server.js';
import { MLOPS_BIN, gitInit, projectCli, runMlops, writeFiles, smallParams } from './helpers.js';
import { postgresDatabase } from './postgres.js';

// `mlops serve` against real servers on 127.0.0.1 (ephemeral ports), a real trained and registered
// model, real HTTP requests; answers are checked against `mlops predict` on the same rows. MLOPS_ROOT
// names the project, so a stray .mlops/ above the temp folder cannot capture it.

const PARAMS = smallParams();

let dir: string;
/** Six raw rows as records (target dropped), and the classes `mlops predict` gives them. */
let records: Record<string, string | number>[];
let expected: string[];
let columns: string[];

after(() => rmSync(dir, { recursive: true, force: true }));

const { ok } = projectCli(() => dir);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-serve-'));
  const csv = generateObesity(240, 11);
  writeFiles(dir, { 'params.yaml': PARAMS, 'data/raw/obesity.csv': csv });
  gitInit(dir);
  await ok('prepare');
  await ok('train');
  await ok('models', 'register', 'clf', '--alias', 'champion');
  const lines = csv.trim().split('\n');
  const header = lines[0]!.split(',');
  columns = header.slice(0, -1);
  const rows = lines.slice(1, 7).map((l) => l.split(',').slice(0, -1));
  writeFileSync(join(dir, 'rows.csv'), [columns.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n');
  records = rows.map((r) => Object.fromEntries(r.map((v, j) => [columns[j]!, Number.isNaN(Number(v)) ? v : Number(v)])));
  const predicted = await ok('predict', '--model', 'models:/clf@champion', '--input', 'rows.csv');
  expected = predicted.stdout.trim().split('\n').slice(1).map((l) => l.split(',')[0]!);
});

async function serve(t: { after(fn: () => Promise<void>): void }, options: Partial<ServeOptions> = {}): Promise<RunningServer> {
  const server = await startServer({ project: Project.open(dir), model: 'models:/clf@champion', host: '127.0.0.1', port: 0, bodyLimit: 1024 * 1024, accessLog: false, reloadInterval: 0, version: 'test', warn: () => {}, ...options });
  t.after(() => server.close());
  return server;
}

async function call(server: RunningServer, path: string, body?: unknown, type = 'application/json') {
  const init: RequestInit = body === undefined ? {} : { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) };
  const response = await fetch(server.url + path, init);
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text, type: response.headers.get('content-type') ?? '' };
}

test('health, version and model metadata on both protocols', async (t) => {
  const server = await serve(t);
  for (const path of ['/ping', '/health', '/v2/health/live', '/v2/health/ready', '/v2/models/clf/ready']) assert.equal((await call(server, path)).status, 200, path);
  assert.deepEqual((await call(server, '/version')).json, { mlops: 'test', model: { name: 'clf', version: 1, source: 'models:/clf@champion' } });
  const meta = (await call(server, '/v2/models/clf')).json;
  assert.equal(meta.name, 'clf');
  assert.deepEqual(meta.versions, ['1']);
  assert.deepEqual(meta.inputs.map((i: { name: string }) => i.name), columns);
  assert.deepEqual(meta.inputs.find((i: { name: string }) => i.name === 'Gender').datatype, 'BYTES');
  assert.deepEqual(meta.inputs.find((i: { name: string }) => i.name === 'Age').datatype, 'FP64');
});

test('/invocations answers every MLflow input format as mlops predict does', async (t) => {
  const server = await serve(t);
  const split = { columns, data: records.map((r) => columns.map((c) => r[c])) };
  const byColumn = Object.fromEntries(columns.map((c) => [c, records.map((r) => r[c])]));
  const bodies: [string, unknown, string?][] = [
    ['dataframe_split', { dataframe_split: split }],
    ['dataframe_records', { dataframe_records: records }],
    ['instances', { instances: records }],
    ['inputs as records', { inputs: records }],
    ['inputs as columns', { inputs: byColumn }],
    ['csv', readFileSync(join(dir, 'rows.csv'), 'utf8'), 'text/csv'],
  ];
  for (const [name, body, type] of bodies) {
    const r = await call(server, '/invocations', body, type);
    assert.equal(r.status, 200, `${name}: ${r.text}`);
    assert.deepEqual(r.json, { predictions: expected }, name);
  }
});

test('/predict takes one record or a list and answers classes with probabilities; v2 infer the same', async (t) => {
  const server = await serve(t);
  const one = await call(server, '/predict', records[0]);
  assert.equal(one.status, 200, one.text);
  assert.match(one.json.request_id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(one.json.model, { name: 'clf', version: 1 });
  assert.equal(one.json.predictions.length, 1);
  const p = one.json.predictions[0];
  assert.equal(p.class, expected[0]);
  const probs = Object.values(p.probabilities) as number[];
  assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  assert.equal(p.probabilities[p.class], Math.max(...probs));
  const many = await call(server, '/predict', records);
  assert.deepEqual(many.json.predictions.map((x: { class: string }) => x.class), expected);

  const inputs = columns.map((c) => ({ name: c, shape: [records.length], datatype: typeof records[0]![c] === 'number' ? 'FP64' : 'BYTES', data: records.map((r) => r[c]) }));
  const infer = await call(server, '/v2/models/clf/infer', { id: 'req-1', inputs });
  assert.equal(infer.status, 200, infer.text);
  assert.equal(infer.json.model_name, 'clf');
  assert.equal(infer.json.model_version, '1');
  assert.equal(infer.json.id, 'req-1');
  const [labels, proba] = infer.json.outputs;
  assert.deepEqual(labels.data, expected);
  assert.equal(proba.shape[0], records.length);
  assert.equal(proba.data.length, proba.shape[0] * proba.shape[1]);
});

test('bad input is a 4xx naming the field and row, and the server keeps serving', async (t) => {
  const server = await serve(t, { bodyLimit: 4096 });
  const [first, second] = records as [Record<string, string | number>, Record<string, string | number>];
  const cases: [string, unknown, number, RegExp, string?][] = [
    ['malformed JSON', '{"dataframe_records": [', 400, /not valid JSON/],
    ['two input keys', { instances: records, inputs: records }, 400, /exactly one of dataframe_split, dataframe_records, instances, inputs/],
    ['no input key', { rows: records }, 400, /exactly one of/],
    ['missing column', { dataframe_records: [{ ...first, Age: undefined }] }, 400, /field 'Age': column missing/],
    ['extra column', { dataframe_records: [{ ...first, Shoe: 42 }] }, 400, /field 'Shoe': unknown column/],
    ['non-numeric value', { dataframe_records: [first, { ...second, Age: 'old' }] }, 400, /row 2: field 'Age': non-numeric value "old"/],
    ['a nested value', { dataframe_records: [{ ...first, Age: [1] }] }, 400, /row 1: field 'Age': expected a number, a string or null/],
    ['empty batch', { dataframe_records: [] }, 400, /empty batch/],
    ['ragged split', { dataframe_split: { columns, data: [[1, 2]] } }, 400, /row 1: expected a list of 16 values/],
    ['body over the limit', { dataframe_records: Array(60).fill(first) }, 413, /too large/i],
    ['unsupported content type', 'Age=3', 415, /unsupported content type "text\/plain"/, 'text/plain'],
  ];
  for (const [name, body, status, message, type] of cases) {
    const r = await call(server, '/invocations', body, type);
    assert.equal(r.status, status, `${name}: ${r.text}`);
    assert.equal(r.json.error_code, 'BAD_REQUEST', name);
    assert.match(r.json.message, message, name);
    assert.doesNotMatch(r.text, /at .*\.js:\d+/, `${name}: no stack trace`);
  }
  const unknownRoute = await call(server, '/nope');
  assert.equal(unknownRoute.status, 404);
  assert.match(unknownRoute.json.message, /no route GET \/nope/);
  const unknownModel = await call(server, '/v2/models/other/infer', { inputs: [] });
  assert.equal(unknownModel.status, 404);
  assert.match(unknownModel.json.error, /unknown model "other"; this server serves "clf"/);
  const badTensor = await call(server, '/v2/models/clf/infer', { inputs: [{ name: 'Age' }] });
  assert.equal(badTensor.status, 400);
  assert.match(badTensor.json.error, /inputs.0/);
  // An unseen category is encoded as predict encodes it (not an error) and counted.
  const unseen = await call(server, '/predict', { ...first, MTRANS: 'Rocket' });
  assert.equal(unseen.status, 200, unseen.text);
  assert.deepEqual((await call(server, '/invocations', { dataframe_records: records })).json, { predictions: expected }, 'still serving');
  const metrics = (await call(server, '/metrics')).text;
  assert.match(metrics, /^mlops_unseen_categories_total\{column="MTRANS"\} 1$/m);
});

test('text/csv bodies: the model\'s na_values are missing, as mlops predict reads a file; CSV errors name the row', async (t) => {
  const server = await serve(t);
  const lines = readFileSync(join(dir, 'rows.csv'), 'utf8').trim().split('\n');
  const age = columns.indexOf('Age');
  const withNa = [lines[0], ...lines.slice(1).map((l, i) => l.split(',').map((v, j) => (j === age && i < 3 ? ['NA', 'N/A', ''][i] : v)).join(','))].join('\n') + '\n';
  writeFileSync(join(dir, 'rows-na.csv'), withNa);
  const predicted = (await ok('predict', '--model', 'models:/clf@champion', '--input', 'rows-na.csv')).stdout.trim().split('\n').slice(1).map((l) => l.split(',')[0]);
  const r = await call(server, '/invocations', withNa, 'text/csv');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.predictions, predicted);
  const bad: [string, RegExp][] = [
    [withNa.replace(/\n[^\n]*\n$/, `\n${lines[6]!.replace(/,[^,]*$/, '')}\n`), /^row 6: expected 16 fields as in the header, found 15$/],
    [withNa.replace(/^([^\n]*\n[^\n]*\n)([^,]*),([^,]*),/, '$1$2,old,'), /^row 2: field 'Age': non-numeric value "old"/],
    [`${lines[0]}\n`, /no data rows below the header/],
    ['', /empty batch/],
  ];
  for (const [body, message] of bad) {
    const e = await call(server, '/invocations', body, 'text/csv');
    assert.equal(e.status, 400, e.text);
    assert.match(e.json.message, message);
  }
});

test('/predict probabilities carry no float noise (15 decimals) and match mlops predict\'s', async (t) => {
  const server = await serve(t);
  const printed = (await ok('predict', '--model', 'models:/clf@champion', '--input', 'rows.csv')).stdout.trim().split('\n');
  const header = printed[0]!.split(',');
  const r = await call(server, '/predict', records);
  r.json.predictions.forEach((p: { probabilities: Record<string, number> }, i: number) => {
    const cells = printed[i + 1]!.split(',');
    for (const [c, v] of Object.entries(p.probabilities)) {
      assert.equal(v, Math.round(v * 1e15) / 1e15, `${v} has at most 15 decimals`);
      assert.ok(Math.abs(v - Number(cells[header.indexOf(`proba_${c}`)])) < 1e-14, `${c}: ${v}`);
    }
  });
});

test('rate limit: past the limit a client gets 429 with Retry-After; health probes and /metrics are exempt; the server keeps serving', async (t) => {
  const server = await serve(t, { rateLimit: { max: 3, windowMs: 60_000 } });
  for (let i = 0; i < 3; i++) assert.equal((await call(server, '/predict', records[0])).status, 200);
  const refused = await fetch(server.url + '/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records[0]) });
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) > 0);
  const body = (await refused.json()) as { error_code: string; message: string };
  assert.equal(body.error_code, 'RATE_LIMITED');
  assert.match(body.message, /^rate limit exceeded: at most 3 requests per 60 s from one client; retry in /);
  for (let i = 0; i < 5; i++) assert.equal((await call(server, '/health')).status, 200);
  assert.equal((await call(server, '/predict', records[0])).status, 429, 'still limited');
  assert.match((await call(server, '/metrics')).text, /^mlops_http_requests_total\{route="\/predict",method="POST",status="429"\} 2$/m);
});

test('/metrics: requests by route and status, latency, rows and classes, model info, log backlog', async (t) => {
  const server = await serve(t);
  await call(server, '/invocations', { dataframe_records: records });
  await call(server, '/invocations', { dataframe_records: [] });
  await call(server, '/unknown/path/12345');
  const r = await call(server, '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.type, /^text\/plain; version=0\.0\.4/);
  const m = r.text;
  assert.match(m, /^mlops_http_requests_total\{route="\/invocations",method="POST",status="200"\} 1$/m);
  assert.match(m, /^mlops_http_requests_total\{route="\/invocations",method="POST",status="400"\} 1$/m);
  assert.match(m, /^mlops_http_requests_total\{route="unmatched",method="GET",status="404"\} 1$/m, 'unknown paths share one label');
  assert.doesNotMatch(m, /12345/);
  assert.match(m, /^mlops_http_request_duration_seconds_count\{route="\/invocations"\} 2$/m);
  assert.match(m, /^mlops_predicted_rows_total 6$/m);
  const byClass = [...m.matchAll(/^mlops_predictions_total\{class="([^"]+)"\} (\d+)$/gm)].map(([, c, n]) => [c, Number(n)]);
  const counts: Record<string, number> = {};
  for (const c of expected) counts[c] = (counts[c] ?? 0) + 1;
  assert.deepEqual(Object.fromEntries(byClass), counts);
  assert.match(m, /^mlops_model_info\{name="clf",version="1",source="models:\/clf@champion"\} 1$/m);
  assert.match(m, /^mlops_prediction_log_backlog \d+$/m);
});

test('the prediction log holds every predicted row, raw, written by close', async (t) => {
  // Other tests' servers log to the same database: this test picks its own rows by request id.
  const server = await serve(t);
  const answers = await Promise.all(records.map((r) => call(server, '/predict', r)));
  await server.close();
  const ours = await logged(answers.map((a) => a.json.request_id));
  assert.equal(ours.length, records.length);
  for (const row of ours) {
    assert.deepEqual(row.model, { name: 'clf', version: 1 });
    assert.ok(!Number.isNaN(Date.parse(row.time)));
    assert.equal(typeof row.latency_ms, 'number');
    const i = records.findIndex((r) => JSON.stringify(r) === JSON.stringify(row.input));
    assert.ok(i >= 0, 'the raw input row, as sent');
    assert.equal(row.prediction, expected[i]);
    assert.equal(Object.keys(row.probabilities ?? {}).length > 1, true);
  }
});

/** The logged rows of these requests, read back through the reader monitoring uses. */
async function logged(ids: readonly string[]): Promise<PredictionRecord[]> {
  const wanted = new Set(ids);
  const reader = await openPredictionReader(Project.open(dir));
  const rows: PredictionRecord[] = [];
  for await (const row of reader.rows({})) if (wanted.has(row.request_id)) rows.push(row);
  await reader.close();
  return rows;
}

test('the log read back by mlops predictions; with predictions.uri = postgresql://... the server logs there', async (t) => {
  const server = await serve(t);
  const answer = await call(server, '/predict', records.slice(0, 2));
  await server.close();
  const listed = await ok('predictions', 'list', '--json', '--model', 'clf', '--limit', '1000');
  const mine = JSON.parse(listed.stdout).filter((r: PredictionRecord) => r.request_id === answer.json.request_id);
  assert.deepEqual(mine.map((r: PredictionRecord) => [r.input, r.prediction]), [[records[0], expected[0]], [records[1], expected[1]]]);
  const exported = (await ok('predictions', 'export', '--model', 'clf')).stdout;
  assert.match(exported.split('\n')[0]!, new RegExp(`^request_id,time,model,version,prediction,${columns.join(',')},probability_`));
  assert.ok(exported.includes(answer.json.request_id));

  const uri = await postgresDatabase(t, 'serve_log');
  if (uri === undefined) return;
  writeFileSync(join(dir, '.mlops', 'config.local'), `[predictions]\n    uri = ${uri}\n`);
  t.after(() => rmSync(join(dir, '.mlops', 'config.local'), { force: true }));
  const pgServer = await serve(t);
  const pgAnswer = await call(pgServer, '/predict', records[2]);
  await pgServer.close();
  const fromPg = JSON.parse((await ok('predictions', 'list', '--json')).stdout);
  assert.deepEqual(fromPg.map((r: PredictionRecord) => [r.request_id, r.input, r.prediction]), [[pgAnswer.json.request_id, records[2], expected[2]]]);
});

test('a regression model is served: /predict answers {"value": x}, /invocations numbers, v2 an FP64 tensor, as mlops predict', async (t) => {
  const reg = mkdtempSync(join(tmpdir(), 'mlops-serve-reg-'));
  t.after(() => rmSync(reg, { recursive: true, force: true }));
  writeFiles(reg, { 'params.yaml': PARAMS.replace('target: NObeyesdad', 'target: Weight\n  task: regression'), 'data/raw/obesity.csv': generateObesity(200, 4) });
  gitInit(reg);
  const run = async (...args: string[]) => {
    const r = await runMlops(args, { cwd: reg, env: { MLOPS_ROOT: reg } });
    assert.equal(r.code, 0, `mlops ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  await run('prepare');
  await run('train');
  await run('models', 'register', 'reg', '--alias', 'champion');
  const rows = records.map(({ Weight: _, ...rest }) => ({ ...rest, NObeyesdad: 'Normal_Weight' }));
  writeFileSync(join(reg, 'rows.csv'), [Object.keys(rows[0]!).join(','), ...rows.map((r) => Object.values(r).join(','))].join('\n') + '\n');
  const values = (await run('predict', '--model', 'models:/reg@champion', '--input', 'rows.csv')).stdout.trim().split('\n').slice(1).map(Number);
  const server = await startServer({ project: Project.open(reg), model: 'models:/reg@champion', host: '127.0.0.1', port: 0, bodyLimit: 1 << 20, accessLog: false, reloadInterval: 0, version: 'test', warn: () => {} });
  t.after(() => server.close());
  const one = await call(server, '/predict', rows[0]);
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.json.predictions, [{ value: values[0] }]);
  assert.deepEqual((await call(server, '/invocations', { dataframe_records: rows })).json, { predictions: values });
  const inputs = Object.keys(rows[0]!).map((c) => ({ name: c, shape: [rows.length], datatype: 'BYTES', data: rows.map((r) => (r as Record<string, unknown>)[c]) }));
  const infer = await call(server, '/v2/models/reg/infer', { inputs });
  assert.deepEqual(infer.json.outputs, [{ name: 'predict', datatype: 'FP64', shape: [rows.length], data: values }]);
  assert.deepEqual((await call(server, '/v2/models/reg')).json.outputs, [{ name: 'predict', datatype: 'FP64', shape: [-1] }]);
  await server.close();
  const reader = await openPredictionReader(Project.open(reg));
  t.after(() => reader.close());
  const logged: PredictionRecord[] = [];
  for await (const r of reader.rows({ model: 'reg' })) logged.push(r);
  assert.deepEqual(logged.slice(0, 1).map((r) => [r.prediction, r.probabilities]), [[values[0], undefined]]);
});

/** `mlops serve ARGS` as a child process, once it says it is serving. */
async function spawnServe(...args: string[]) {
  const child = spawn(process.execPath, [MLOPS_BIN, 'serve', '--port', '0', ...args], { cwd: dir, env: { ...process.env, CI: 'true', MLOPS_ROOT: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      out.stderr += d;
      const m = /serving clf version \d+ at (http:\/\/127\.0\.0\.1:\d+)/.exec(out.stderr);
      if (m) resolve(m[1]!);
    });
    child.on('close', () => reject(new Error(`exited before listening: ${out.stderr}`)));
  });
  return { child, url, exited, out };
}

const postJson = (url: string, body: unknown, id?: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(id ? { 'x-request-id': id } : {}) }, body: JSON.stringify(body) });

test('mlops serve as a process: ready, answers, SIGTERM stops it cleanly (exit 0) with the log written', async () => {
  const { child, url, exited, out } = await spawnServe('models:/clf/1');
  const response = await postJson(`${url}/invocations`, { dataframe_records: records });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { predictions: expected });
  const id = 'sigterm-test-request';
  await postJson(`${url}/predict`, records[0], id);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, out.stderr);
  assert.match(out.stderr, /stopped\n$/);
  assert.equal((await logged([id])).length, 1, 'the last request is in the log after SIGTERM');
  // Not on a terminal: structured JSON access logs on stdout.
  const access = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const line = access.find((l) => l.reqId === id);
  assert.deepEqual([line.method, line.url, line.route, line.status, line.client, line.msg], ['POST', '/predict', '/predict', 200, '127.0.0.1', 'request']);
  assert.equal(typeof line.duration_ms, 'number');
  assert.equal(access.filter((l) => l.reqId === id).length, 1, 'one line per request');
});

test('--workers 2: two processes share the port, /metrics counts both, SIGTERM under load loses no logged row', async () => {
  const { child, url, exited, out } = await spawnServe('--workers', '2', 'models:/clf/1');
  assert.match(out.stderr, /with 2 workers/);
  const pids = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(pids.length, 2, 'two worker processes');
  const warm = await Promise.all([...Array(40).keys()].map((i) => postJson(`${url}/predict`, records[i % records.length], `warm-${i}`)));
  assert.ok(warm.every((r) => r.status === 200));
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /^mlops_http_requests_total\{route="\/predict",method="POST",status="200"\} 40$/m, 'both workers\' requests');
  assert.match(metrics, /^mlops_model_info\{name="clf",version="1",source="models:\/clf\/1"\} 1$/m);

  // Eight clients keep sending until the server is gone; SIGTERM arrives in the middle.
  const answered: string[] = [];
  let n = 0;
  const clients = [...Array(8).keys()].map(async (c) => {
    for (;;) {
      const id = `drain-${c}-${n++}`;
      try {
        const r = await postJson(`${url}/predict`, records, id);
        if (r.status !== 200) throw new Error(`status ${r.status}: ${await r.text()}`);
        await r.json();
        answered.push(id);
      } catch (error) {
        return error as Error;
      }
    }
  });
  while (answered.length < 100) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGTERM');
  const endings = await Promise.all(clients);
  assert.equal(await exited, 0, out.stderr);
  for (const e of endings) assert.doesNotMatch(e.message, /^status/, 'no request refused with an HTTP error');
  const rows = await logged(answered);
  assert.equal(rows.length, answered.length * records.length, 'every answered request has all its rows in the log');
});

test('a request that reaches a stopping server on an open connection is answered and logged, then that connection is closed', async () => {
  const { child, url, exited } = await spawnServe('models:/clf/1');
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('utf8').on('data', (d: string) => (received += d));
  const closed = once(socket, 'close');
  const body = JSON.stringify({ dataframe_records: records });
  const request = (id: string) => `POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${id}\r\n\r\n${body}`;
  // The first request is half sent when the stop comes, so its connection is busy, not idle (which
  // a stop closes at once); the second comes on that connection behind it, once the server is stopping.
  const first = request('before-stop');
  socket.write(first.slice(0, -10));
  await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  socket.write(first.slice(-10) + request('after-stop'));
  await closed;
  assert.equal(await exited, 0);
  assert.deepEqual([...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]), ['200', '200'], received);
  assert.match(received, /^connection: close\r$/im);
  assert.equal((await logged(['before-stop', 'after-stop'])).length, 2 * records.length);
});

test('an unknown model URI or bad options: exit 2 before listening', async () => {
  const cases: [string[], RegExp][] = [
    [['serve', 'models:/nope@champion', '--port', '0'], /no registered model named "nope"/],
    [['serve', 'models:/nope@champion', '--port', '0', '--workers', '2'], /no registered model named "nope"/],
    [['serve', 'models:/clf@champion', '--port', 'http'], /--port: expected a port number 0-65535, got "http"/],
    [['serve', 'models:/clf@champion', '--port', '0', '--workers', '0'], /--workers: expected a positive number of processes, got "0"/],
    [['serve', 'models:/clf@champion', '--port', '0', '--retention', '3 days'], /--retention: expected a duration like 30d/],
    [['serve', 'models:/clf@champion', '--port', '0', '--rate-limit', '100'], /--rate-limit: expected requests per unit, e.g. 100\/s/],
    [['serve', 'missing/model.json', '--port', '0'], /missing\/model.json/],
    [['serve', '--api-key-env', 'MLOPS_TEST_UNSET_KEY', '--port', '0'], /the environment variable MLOPS_TEST_UNSET_KEY is not set or empty/],
  ];
  for (const [args, message] of cases) {
    const r = await runMlops(args, { cwd: dir, env: { MLOPS_ROOT: dir } });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /serving/);
  }
});

test('with an API key, every route but the health probes needs the bearer token; a refusal says only 401', async (t) => {
  const server = await serve(t, { apiKey: 's3cret-key' });
  const send = (path: string, auth?: string) =>
    fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: JSON.stringify(records[0]) });
  for (const auth of [undefined, 'Bearer wrong', 'Bearer s3cret-ke', 'Basic s3cret-key', 'Bearer s3cret-key-and-more']) {
    const r = await send('/predict', auth);
    assert.equal(r.status, 401, String(auth));
    assert.deepEqual(await r.json(), { error_code: 'UNAUTHENTICATED', message: 'unauthorized' });
  }
  assert.equal((await send('/predict', 'Bearer s3cret-key')).status, 200);
  assert.equal((await fetch(server.url + '/metrics')).status, 401);
  assert.equal((await fetch(server.url + '/metrics', { headers: { authorization: 'Bearer s3cret-key' } })).status, 200);
  for (const open of ['/ping', '/health', '/v2/health/live', '/v2/health/ready']) assert.equal((await fetch(server.url + open)).status, 200, open);
});

test('when the served alias moves, the new version is loaded aside and switched in under load with no failed or mixed request; rollback switches back; a broken one is refused', async (t) => {
  const warnings: string[] = [];
  const server = await serve(t, { warn: (m) => warnings.push(m) });
  let stop = false;
  const answered: { status: number; version: number; predictions: { class: string; probabilities: Record<string, number> }[] }[] = [];
  // Eight clients keep calling through the switch; each answer names the one version that produced it.
  const load = Promise.all(
    [...Array(8).keys()].map(async () => {
      while (!stop) {
        const r = await call(server, '/predict', records);
        answered.push({ status: r.status, version: r.json?.model?.version, predictions: r.json?.predictions });
      }
    }),
  );
  writeFileSync(join(dir, 'params.yaml'), PARAMS.replace('n_estimators: [20]', 'n_estimators: [7]').replace('max_depth: [6]', 'max_depth: [3]'));
  await ok('train');
  await ok('models', 'register', 'clf', '--alias', 'champion');
  await server.checkForSwitch();
  const after = answered.length;
  while (answered.length < after + 24) await new Promise((r) => setTimeout(r, 5));
  stop = true;
  await load;
  assert.ok(answered.every((a) => a.status === 200), 'no failed request');
  assert.ok(answered.some((a) => a.version === 1) && answered.some((a) => a.version === 2), 'both versions answered');
  // Not mixed: every answer is, row for row, what `mlops predict` gives with the version it names.
  const byVersion: Record<number, string[][]> = {};
  for (const v of [1, 2]) byVersion[v] = (await ok('predict', '--model', `models:/clf/${v}`, '--input', 'rows.csv')).stdout.trim().split('\n').slice(1).map((l) => l.split(','));
  assert.notDeepEqual(byVersion[1], byVersion[2], 'the versions answer differently');
  for (const a of answered) {
    a.predictions.forEach((p, i) => {
      const printed = byVersion[a.version]![i]!;
      assert.equal(p.class, printed[0]);
      Object.values(p.probabilities).forEach((v, k) => assert.ok(Math.abs(v - Number(printed[k + 1])) < 1e-14));
    });
  }
  // Up to one request per client was scored before the switch and answered after it returned.
  assert.ok(answered.slice(after + 8).every((a) => a.version === 2), 'once switched, only the new version answers');
  assert.equal((await call(server, '/version')).json.model.version, 2);
  assert.match((await call(server, '/metrics')).text, /^mlops_model_info\{name="clf",version="2",source="models:\/clf@champion"\} 1$/m);
  assert.deepEqual(warnings, ['switched to clf version 2']);

  // Rolled back: the alias moves to version 1 again, and so does the server.
  await ok('models', 'rollback', 'clf');
  await server.checkForSwitch();
  assert.equal((await call(server, '/version')).json.model.version, 1);
  assert.deepEqual((await call(server, '/invocations', { dataframe_records: records })).json, { predictions: expected });
  await ok('models', 'alias', 'clf', '2', 'champion');
  await server.checkForSwitch();
  assert.equal((await call(server, '/version')).json.model.version, 2);
  warnings.splice(1);

  // Version 3's stored model is damaged after registration: the server keeps version 2 and says why.
  writeFileSync(join(dir, 'params.yaml'), PARAMS.replace('n_estimators: [20]', 'n_estimators: [4]'));
  await ok('train');
  await ok('models', 'register', 'clf', '--alias', 'champion');
  const md5 = createHash('md5').update(readFileSync(join(dir, 'models', 'model.json'))).digest('hex');
  writeFileSync(join(dir, '.mlops', 'cache', 'files', 'md5', md5.slice(0, 2), md5.slice(2)), '{"damaged": true}');
  await server.checkForSwitch();
  assert.equal((await call(server, '/version')).json.model.version, 2);
  assert.equal((await call(server, '/predict', records[0])).status, 200);
  assert.equal(warnings.length, 2);
  assert.match(warnings[1]!, /^cannot switch to clf version 3, still serving version 2: /);
});
