import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateObesity } from '../src/ml/synthetic.js';
import { championProject, startServe } from './serve-child.js';
import { projectCli, smallParams } from './helpers.js';

// The production loop for real: a trained, registered model served by a real `mlops serve` child
// process, synthetic traffic over four time windows with one column shifted from the third on, then
// `mlops monitor drift` and `mlops monitor outcomes` through the real CLI on what the server logged.

const PARAMS = smallParams();

/**
 * Each phase of traffic gets a window of its own: its requests are sent at the window's start and
 * answered well before its end. The window is four times what a warm-up phase took (at least 2 s),
 * so a loaded machine gets longer windows rather than a failed test.
 */
let WINDOW_MS = 2000;
let WINDOW = '2s';
const PHASES = 4;
const ROWS_PER_PHASE = 200;

let dir: string;
let from: string;
let to: string;
/** Per logged row: the key a labels file names it by, the served class, and its true class. */
const served: { key: string; predicted: string; truth: string; proba: Record<string, number> }[] = [];

after(() => rmSync(dir, { recursive: true, force: true }));

const { mlops, ok } = projectCli(() => dir);


const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

function rowsOf(csv: string): { records: Record<string, string | number>[]; truth: string[] } {
  const lines = csv.trim().split('\n');
  const header = lines[0]!.split(',');
  const records: Record<string, string | number>[] = [];
  const truth: string[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    records.push(Object.fromEntries(header.slice(0, -1).map((c, j) => [c, Number.isNaN(Number(cells[j])) ? cells[j]! : Number(cells[j])])));
    truth.push(cells.at(-1)!);
  }
  return { records, truth };
}

/** One phase of traffic: ROWS_PER_PHASE generated rows, most in one batch request, the last three one request each. */
async function phase(url: string, seed: number, shifted: boolean, into: typeof served): Promise<void> {
  const { records, truth } = rowsOf(generateObesity(ROWS_PER_PHASE, seed));
  // Halfway the weight column shifts by +25 kg (a new population, or a scale now in pounds).
  if (shifted) for (const r of records) r.Weight = (r.Weight as number) + 25;
  // A batch's rows are ID:0, ID:1, ...; a one-row request's row is its plain ID.
  const batches = [records.slice(0, -3), ...records.slice(-3).map((r) => [r])];
  let offset = 0;
  for (const batch of batches) {
    const response = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { request_id: string; predictions: { class: string; probabilities: Record<string, number> }[] };
    body.predictions.forEach((p, i) => {
      into.push({ key: batch.length === 1 ? body.request_id : `${body.request_id}:${i}`, predicted: p.class, truth: truth[offset + i]!, proba: p.probabilities });
    });
    offset += batch.length;
  }
}

before(async () => {
  dir = await championProject('mlops-monitor-', PARAMS, 600);

  const { child, url } = await startServe(dir, ['models:/obesity_classifier@champion']);
  try {
    // The warm-up is logged before the period starts: it must be left out of every check.
    const warmup = Date.now();
    await phase(url, 99, false, []);
    WINDOW_MS = Math.max(2000, Math.ceil((4 * (Date.now() - warmup)) / 1000) * 1000);
    WINDOW = `${WINDOW_MS / 1000}s`;
    const start = Date.now();
    from = new Date(start).toISOString();
    to = new Date(start + PHASES * WINDOW_MS).toISOString();
    for (let k = 0; k < PHASES; k++) {
      await sleepUntil(start + k * WINDOW_MS);
      await phase(url, 100 + k, k >= PHASES / 2, served);
      assert.ok(Date.now() < start + (k + 1) * WINDOW_MS, `phase ${k} ended ${Date.now() - start - k * WINDOW_MS} ms into its ${WINDOW_MS} ms window`);
    }
  } finally {
    // A graceful stop writes the log's last batch.
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

test('monitor drift: the windows after the shift drift on the shifted column, the ones before do not; the check is a tracked run', async () => {
  const r = await ok('monitor', 'drift', 'models:/obesity_classifier@champion', '--from', from, '--to', to, '--window', WINDOW, '--json');
  const report = JSON.parse(r.stdout);
  assert.equal(report.model.uri, 'models:/obesity_classifier@champion');
  assert.deepEqual(report.model.versions, [1]);
  assert.equal(report.windows.length, PHASES);
  assert.deepEqual(report.windows.map((w: { rows: number }) => w.rows), [ROWS_PER_PHASE, ROWS_PER_PHASE, ROWS_PER_PHASE, ROWS_PER_PHASE]);
  assert.deepEqual(report.windows.map((w: { drift: boolean }) => w.drift), [false, false, true, true]);
  for (const w of report.windows.slice(2)) {
    assert.deepEqual(w.drifted_columns, ['Weight']);
    assert.equal(w.share, 1 / Object.keys(w.columns).length);
    const weight = w.columns.Weight;
    assert.equal(weight.test, 'ks');
    assert.ok(weight.p_value < 1e-10 && weight.distance > 0.5 && weight.psi > 0.5, JSON.stringify(weight));
  }
  for (const w of report.windows.slice(0, 2)) {
    assert.ok(w.columns.Weight.distance < 0.2, JSON.stringify(w.columns.Weight));
    assert.equal(w.from, new Date(Date.parse(from) + report.windows.indexOf(w) * WINDOW_MS).toISOString());
  }
  // The run: one per check, metrics per window as steps, the report as its artifact.
  const runs = JSON.parse((await ok('runs', 'list', '--json')).stdout);
  const run = runs.find((x: { run_id?: string; info?: { run_id: string } }) => (x.run_id ?? x.info?.run_id) === report.run_id);
  assert.ok(run, `run ${report.run_id} is listed`);
  const metricsDir = readdirSync(join(dir, 'mlruns'), { recursive: true }).map(String).filter((p) => p.includes(report.run_id) && p.endsWith(join('metrics', 'drift')));
  assert.equal(metricsDir.length, 1);
  // --fail-on-drift: exit 1; the plain table names the windows.
  const failed = await mlops('monitor', 'drift', 'models:/obesity_classifier@champion', '--from', from, '--to', to, '--window', WINDOW, '--fail-on-drift');
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stdout, /drift in 2 of 4 window\(s\)/);
  assert.match(failed.stderr, /drift detected in 2 window/);
  // Before the shift alone: no drift, exit 0.
  const before = await ok('monitor', 'drift', '--from', from, '--to', new Date(Date.parse(from) + 2 * WINDOW_MS).toISOString(), '--fail-on-drift', '--md');
  assert.match(before.stdout, /^### Production drift/);
  assert.match(before.stdout, /\*\*no drift in 1 of 1 window/);
});

test('monitor drift: windows with fewer than --min-rows rows are too small, not "no drift"; a period with no rows is exit 2', async () => {
  const r = JSON.parse((await ok('monitor', 'drift', '--from', from, '--to', to, '--window', WINDOW, '--min-rows', '201', '--json')).stdout);
  assert.deepEqual(r.windows.map((w: { status: string; drift: null }) => [w.status, w.drift]), Array(4).fill(['too_small', null]));
  assert.equal(r.drift, false);
  const empty = await mlops('monitor', 'drift', '--from', '2020-01-01', '--to', '2020-01-02');
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /no logged predictions of obesity_classifier \(versions 1\) from 2020-01-01T00:00:00.000Z/);
});

let webhook: { server: Server; url: string; bodies: unknown[] };

before(async () => {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      bodies.push({ method: req.method, type: req.headers['content-type'], body: JSON.parse(text) });
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  webhook = { server, url: `http://127.0.0.1:${address.port}/hook`, bodies };
});
after(() => webhook.server.close());

function writeLabels(wrongEvery: number): { file: string; accuracy: number } {
  // Every `wrongEvery`-th row is labelled with a class the model did not answer: a known accuracy.
  const classes = Object.keys(served[0]!.proba);
  const rows = served.map((s, i) => [s.key, i % wrongEvery === 0 ? classes.find((c) => c !== s.predicted)! : s.predicted]);
  writeFileSync(join(dir, 'labels.csv'), ['request_id,y', ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return { file: 'labels.csv', accuracy: rows.filter((r, i) => r[1] === served[i]!.predicted).length / rows.length };
}

test('monitor outcomes: labels joined by request id give the known accuracy, log loss and Brier; gates exit 1 and call the webhook', async () => {
  const { file, accuracy } = writeLabels(4);
  assert.equal(accuracy, 0.75);
  const r = JSON.parse((await ok('monitor', 'outcomes', '--labels', file, '--from', from, '--to', to, '--window', WINDOW, '--json')).stdout);
  assert.equal(r.overall.rows, served.length);
  assert.equal(r.overall.accuracy, 0.75);
  assert.deepEqual(r.unmatched, { labels: 0, predictions: 0, label_ids: [] });
  // Log loss and Brier from the probabilities the server answered, computed here independently.
  const classes = Object.keys(served[0]!.proba);
  const wrongClass = (s: (typeof served)[number], i: number) => (i % 4 === 0 ? classes.find((c) => c !== s.predicted)! : s.predicted);
  const ll = served.reduce((sum, s, i) => sum - Math.log(Math.min(1 - 1e-15, Math.max(1e-15, s.proba[wrongClass(s, i)]!))), 0) / served.length;
  const brier = served.reduce((sum, s, i) => sum + classes.reduce((a, c) => a + (s.proba[c]! - (c === wrongClass(s, i) ? 1 : 0)) ** 2, 0), 0) / served.length;
  assert.ok(Math.abs(r.overall.log_loss - ll) < 1e-9, `${r.overall.log_loss} vs ${ll}`);
  assert.ok(Math.abs(r.overall.brier - brier) < 1e-12, `${r.overall.brier} vs ${brier}`);
  assert.equal(r.windows.length, PHASES);
  assert.deepEqual(r.windows.map((w: { rows: number }) => w.rows), Array(PHASES).fill(ROWS_PER_PHASE));
  assert.deepEqual(Object.keys(r.by_version), ['1']);

  // Gates: accuracy 0.75 passes a 0.7 minimum, fails 0.8; the failure posts the summary.
  await ok('monitor', 'outcomes', '--labels', file, '--from', from, '--to', to, '--min', 'accuracy=0.7', '--alert-webhook', webhook.url);
  assert.equal(webhook.bodies.length, 0);
  const failed = await mlops('monitor', 'outcomes', '--labels', file, '--from', from, '--to', to, '--min', 'accuracy=0.8', '--max', 'brier=2', '--alert-webhook', webhook.url);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stdout, /FAILED: accuracy 0\.75 >= 0\.8 \(overall\)/);
  assert.match(failed.stdout, /passed: brier/);
  assert.equal(webhook.bodies.length, 1);
  const posted = webhook.bodies[0] as { method: string; type: string; body: { check: string; status: string; model: string; text: string; run_id: string } };
  assert.equal(posted.method, 'POST');
  assert.equal(posted.type, 'application/json');
  assert.equal(posted.body.check, 'outcomes');
  assert.equal(posted.body.model, 'models:/obesity_classifier@champion');
  assert.match(posted.body.text, /accuracy 0\.7500 < 0\.8 \(overall\)/);
  assert.match(posted.body.run_id, /^[0-9a-f]{32}$/);
});

test('monitor drift --alert-webhook posts the drifted windows', async () => {
  webhook.bodies.length = 0;
  await ok('monitor', 'drift', '--from', from, '--to', to, '--window', WINDOW, '--alert-webhook', webhook.url);
  assert.equal(webhook.bodies.length, 1);
  const { body } = webhook.bodies[0] as { body: { check: string; details: { columns: string[] }[]; text: string } };
  assert.equal(body.check, 'drift');
  assert.deepEqual(body.details.map((d) => d.columns), [['Weight'], ['Weight']]);
  assert.match(body.text, /drift in 2 of 4 windows/);
});

test('monitor outcomes: unmatched labels and predictions are counted; bad labels files are one line, exit 2, no run recorded', async () => {
  const half = served.slice(0, 300).map((s) => `${s.key},${s.predicted}`);
  writeFileSync(join(dir, 'partial.csv'), ['request_id,y', ...half, 'no-such-request,Normal_Weight'].join('\n') + '\n');
  const r = JSON.parse((await ok('monitor', 'outcomes', '--labels', 'partial.csv', '--from', from, '--to', to, '--json')).stdout);
  assert.equal(r.overall.rows, 300);
  assert.equal(r.overall.accuracy, 1);
  assert.deepEqual(r.unmatched, { labels: 1, predictions: served.length - 300, label_ids: ['no-such-request'] });

  const runsBefore = (await ok('runs', 'list', '--json')).stdout;
  const bad = async (name: string, text: string, pattern: RegExp, ...extra: string[]) => {
    writeFileSync(join(dir, name), text);
    const b = await mlops('monitor', 'outcomes', '--labels', name, '--from', from, '--to', to, ...extra);
    assert.equal(b.code, 2, `${name}: ${b.stderr}`);
    assert.match(b.stderr.trim(), pattern);
    assert.equal(b.stderr.trim().split('\n').length, 1, b.stderr);
  };
  const k = served[0]!.key;
  await bad('dup.csv', `request_id,y\n${k},Normal_Weight\n${k},Obesity_Type_I\n`, /^error: dup\.csv:3: 'request_id': duplicate id ".*" \(first on line 2\)$/);
  await bad('class.csv', `request_id,y\n${k},Martian\n`, /^error: class\.csv:2: 'y': label "Martian" is not one of the model's classes/);
  await bad('unknown.csv', 'request_id,y\nnope,Normal_Weight\n', /unknown\.csv: none of the 1 ids matches one of the 800 predictions logged/);
  await bad('nocol.csv', 'id,y\nx,Normal_Weight\n', /nocol\.csv:1: no column 'request_id' \(columns: id, y\)/);
  await bad('labels.csv', 'request_id,y\n', /no data rows/);
  await bad('labels.csv', `request_id,y\n${k},Normal_Weight\n`, /--min accuracy: expected METRIC=NUMBER/, '--min', 'accuracy');
  assert.equal((await ok('runs', 'list', '--json')).stdout, runsBefore, 'no run recorded for bad input');
});

test('registration keeps the training split as the reference; a version registered without one is one clear line, exit 2', async () => {
  const v1 = JSON.parse((await ok('models', 'show', 'obesity_classifier', '1', '--json')).stdout);
  const md5 = v1.files['reference.csv'];
  const object = join(dir, '.mlops', 'cache', 'files', 'md5', md5.slice(0, 2), md5.slice(2));
  assert.equal(readFileSync(object, 'utf8'), readFileSync(join(dir, 'data', 'split', 'train.csv'), 'utf8'));
  rmSync(join(dir, 'data', 'split', 'train.csv'));
  await ok('models', 'register', 'obesity_classifier');
  const v2 = JSON.parse((await ok('models', 'show', 'obesity_classifier', '2', '--json')).stdout);
  assert.deepEqual(Object.keys(v2.files).sort(), ['model.json', 'transform.json']);
  const r = await mlops('monitor', 'drift', 'models:/obesity_classifier/2', '--from', from, '--to', to);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /models:\/obesity_classifier\/2: version 2 of model "obesity_classifier" has no training reference/);
  const path = await mlops('monitor', 'drift', 'models/model.json');
  assert.equal(path.code, 2);
  assert.match(path.stderr, /models\/model.json: expected a registered model/);
});
