import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateObesity } from '../src/ml/synthetic.js';
import { championProject, startServe } from './serve-child.js';
import { projectCli, smallParams } from './helpers.js';

// Outcomes joined by the client's own key: a real `mlops serve --id-column order_id` takes the key
// with each row over every protocol (JSON records, CSV, Open Inference v2), logs it with the row and
// never gives it to the model; labels keyed by it are joined from a file or from the labels table
// `mlops predictions label` loads beside the log.

const PARAMS = smallParams();

let dir: string;
let server: { child: ChildProcess; url: string };
let from: string;
let to: string;
/** Per logged row: its order id, its request-id label key, the served class. */
const served: { key: string; request: string; predicted: string }[] = [];
let classes: string[] = [];

const { mlops, ok } = projectCli(() => dir);

function rowsOf(csv: string): Record<string, string | number>[] {
  const [head, ...lines] = csv.trim().split('\n');
  const header = head!.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(header.slice(0, -1).map((c, j) => [c, Number.isNaN(Number(cells[j])) ? cells[j]! : Number(cells[j])]));
  });
}

async function post(path: string, body: string, type = 'application/json'): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
  return { status: response.status, body: await response.json() };
}

before(async () => {
  dir = await championProject('mlops-monitor-keys-', PARAMS, 600);
  server = await startServe(dir, ['models:/obesity_classifier@champion', '--id-column', 'order_id']);
  from = new Date(Date.now() - 1000).toISOString();
  const rows = rowsOf(generateObesity(170, 21));

  // JSON records: 100 rows in one request, keyed A-0 .. A-99.
  const records = rows.slice(0, 100).map((r, i) => ({ order_id: `A-${i}`, ...r }));
  const predicted = await post('/predict', JSON.stringify(records));
  assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
  classes = Object.keys(predicted.body.predictions[0].probabilities);
  predicted.body.predictions.forEach((p: { class: string }, i: number) => served.push({ key: `A-${i}`, request: `${predicted.body.request_id}:${i}`, predicted: p.class }));

  // CSV: 50 rows keyed 001 .. 050, kept as written (not the number 1).
  const csvRows = rows.slice(100, 150);
  const header = Object.keys(csvRows[0]!);
  const csv = [['order_id', ...header].join(','), ...csvRows.map((r, i) => [String(i + 1).padStart(3, '0'), ...header.map((h) => r[h])].join(','))].join('\n');
  const invoked = await post('/invocations', csv, 'text/csv');
  assert.equal(invoked.status, 200, JSON.stringify(invoked.body));
  invoked.body.predictions.forEach((p: string, i: number) => served.push({ key: String(i + 1).padStart(3, '0'), request: '', predicted: p }));

  // Open Inference v2: 20 rows keyed by numbers 9000 .. 9019, one tensor per column.
  const v2Rows = rows.slice(150);
  const inputs = ['order_id', ...header].map((name) => ({ name, shape: [v2Rows.length], datatype: 'BYTES', data: v2Rows.map((r, i) => (name === 'order_id' ? 9000 + i : r[name])) }));
  const inferred = await post('/v2/models/obesity_classifier/infer', JSON.stringify({ inputs }));
  assert.equal(inferred.status, 200, JSON.stringify(inferred.body));
  inferred.body.outputs[0].data.forEach((p: string, i: number) => served.push({ key: String(9000 + i), request: '', predicted: p }));
  to = new Date(Date.now() + 60_000).toISOString();
});

after(async () => {
  server?.child.kill('SIGTERM');
  if (server) await once(server.child, 'exit');
  rmSync(dir, { recursive: true, force: true });
});

/** Labels by `column`: every `wrongEvery`-th row (none with 0) labelled with a class the model did not answer. */
function labelsFile(name: string, column: string, rows: typeof served, wrongEvery: number): number {
  const lines = rows.map((s, i) => `${column === 'order_id' ? s.key : s.request},${wrongEvery > 0 && i % wrongEvery === 0 ? classes.find((c) => c !== s.predicted) : s.predicted}`);
  writeFileSync(join(dir, name), [`${column},y`, ...lines].join('\n') + '\n');
  return rows.filter((_, i) => !(wrongEvery > 0 && i % wrongEvery === 0)).length / rows.length;
}

/** The log written so far (the server writes it every 100 ms). */
async function logged(): Promise<any[]> {
  await new Promise((r) => setTimeout(r, 300));
  return (await ok('predictions', 'export', '--json')).stdout.trim().split('\n').map((l) => JSON.parse(l));
}

test('serve --id-column: every protocol logs the client key with its row; a row without one is a 400 naming it', async () => {
  const rows = await logged();
  assert.deepEqual(rows.map((r) => String(r.input.order_id)), served.map((s) => s.key));
  assert.equal(rows[100].input.order_id, '001', 'a CSV key is kept as written');
  // The key is never a model input: the same rows without it are answered the same by `mlops predict`.
  const rows170 = generateObesity(170, 21).trim().split('\n');
  writeFileSync(join(dir, 'batch.csv'), rows170.slice(0, 101).join('\n') + '\n');
  const offline = (await ok('predict', '--input', 'batch.csv')).stdout.trim().split('\n').slice(1).map((l) => l.split(',')[0]);
  assert.deepEqual(offline, served.slice(0, 100).map((s) => s.predicted));
  const one = rowsOf(generateObesity(3, 21))[0]!;
  const missing = await post('/predict', JSON.stringify([one]));
  assert.equal(missing.status, 400);
  assert.match(missing.body.message ?? JSON.stringify(missing.body), /field 'order_id': key column missing/);
  const empty = await post('/predict', JSON.stringify([{ order_id: 'x', ...one }, { order_id: '', ...one }]));
  assert.equal(empty.status, 400);
  assert.match(empty.body.message ?? JSON.stringify(empty.body), /row 2: field 'order_id': empty key/);
  assert.equal((await logged()).length, served.length, 'refused requests log nothing');
});

test('monitor outcomes --id-column order_id joins a labels file on the logged key', async () => {
  const accuracy = labelsFile('orders.csv', 'order_id', served, 5);
  const r = JSON.parse((await ok('monitor', 'outcomes', '--labels', 'orders.csv', '--id-column', 'order_id', '--from', from, '--to', to, '--json')).stdout);
  assert.equal(r.overall.rows, served.length);
  assert.equal(r.overall.accuracy, accuracy);
  assert.deepEqual(r.unmatched, { labels: 0, predictions: 0, label_ids: [] });
  // By request id, the same rows are not found: the batch's rows are ID:n, the others have no label.
  const byRequest = await mlops('monitor', 'outcomes', '--labels', 'orders.csv', '--from', from, '--to', to, '--json');
  assert.equal(byRequest.code, 2);
  assert.match(byRequest.stderr, /no column 'request_id'/);
});

test('predictions label loads the labels table (an upsert); monitor outcomes without --labels reads it', async () => {
  const noTable = await mlops('monitor', 'outcomes', '--from', from, '--to', to);
  assert.equal(noTable.code, 2);
  assert.match(noTable.stderr.trim(), /^error: no labels by request_id for obesity_classifier predictions from .* in the labels table of \.mlops\/predictions\.db \(load them with 'mlops predictions label FILE', or give --labels FILE\)$/);

  const accuracy = labelsFile('orders.csv', 'order_id', served, 5);
  assert.match((await ok('predictions', 'label', 'orders.csv', '--id-column', 'order_id')).stdout, /^loaded 170 label\(s\) by order_id \(0 replaced/);
  const r = JSON.parse((await ok('monitor', 'outcomes', '--id-column', 'order_id', '--from', from, '--to', to, '--json')).stdout);
  assert.equal(r.overall.rows, served.length);
  assert.equal(r.overall.accuracy, accuracy);
  assert.equal(r.labels, 'the labels table of .mlops/predictions.db');
  assert.deepEqual(r.unmatched, { labels: 0, predictions: 0, label_ids: [] });

  // Loading corrected labels again replaces them: now every row is right.
  labelsFile('orders.csv', 'order_id', served, 0);
  assert.match((await ok('predictions', 'label', 'orders.csv', '--id-column', 'order_id')).stdout, /^loaded 170 label\(s\) by order_id \(170 replaced/);
  const corrected = JSON.parse((await ok('monitor', 'outcomes', '--id-column', 'order_id', '--from', from, '--to', to, '--json', '--min', 'accuracy=0.99')).stdout);
  assert.equal(corrected.overall.accuracy, 1);

  // Labels by request id sit beside them: only the JSON batch's rows have one; the others are counted unmatched.
  const batch = served.slice(0, 100);
  const batchAccuracy = labelsFile('requests.csv', 'request_id', batch, 4);
  await ok('predictions', 'label', 'requests.csv');
  const byRequest = JSON.parse((await ok('monitor', 'outcomes', '--from', from, '--to', to, '--json')).stdout);
  assert.equal(byRequest.overall.rows, 100);
  assert.equal(byRequest.overall.accuracy, batchAccuracy);
  assert.equal(byRequest.unmatched.predictions, served.length - 100);
  // A gate breached on table labels fails as on a file's.
  const gated = await mlops('monitor', 'outcomes', '--from', from, '--to', to, '--min', `accuracy=${batchAccuracy + 0.01}`);
  assert.equal(gated.code, 1, gated.stderr);
});

test('predictions label: bad labels files are one line, exit 2, and nothing is written', async () => {
  labelsFile('orders.csv', 'order_id', served, 0);
  await ok('predictions', 'label', 'orders.csv', '--id-column', 'order_id');
  const scores = async () => JSON.parse((await ok('monitor', 'outcomes', '--id-column', 'order_id', '--from', from, '--to', to, '--json')).stdout).overall;
  const before = await scores();
  const [a, b] = served;
  const wrong = classes.find((c) => c !== a!.predicted)!;
  const bad = async (text: string, pattern: RegExp, ...extra: string[]) => {
    writeFileSync(join(dir, 'bad.csv'), text);
    const r = await mlops('predictions', 'label', 'bad.csv', '--id-column', 'order_id', ...extra);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), pattern);
  };
  // Each file's first row would change a label: none of them may be written.
  await bad(`order_id,y\n${a!.key},${wrong}\n${b!.key},${b!.predicted}\n${b!.key},${b!.predicted}\n`, /^error: bad\.csv:4: 'order_id': duplicate id "A-1" \(first on line 3\)$/);
  await bad(`order_id,y\n${a!.key},${wrong}\nZ-1,${b!.predicted}\n`, /^error: bad\.csv:3: 'order_id': unknown id "Z-1": no logged prediction has this request id or logged key 'order_id'$/);
  await bad(`order_id,y\n${a!.key},${wrong}\n${b!.key},Martian\n`, /^error: bad\.csv:3: 'y': label "Martian" is not one of the model's classes/);
  await bad(`order_id,y\n${a!.key},${wrong}\n`, /^error: bad\.csv:1: no column 'label'/, '--label-column', 'label');
  await bad(`order_id,y\n`, /no data rows/);
  assert.deepEqual(await scores(), before);
});
