import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateObesity } from '../src/ml/synthetic.js';
import { championProject, startServe } from './serve-child.js';
import { projectCli, smallParams } from './helpers.js';

// An alias that moved during the period: version 1 trained on one population, version 2 on another
// (every weight 25 kg more), each served by a real `mlops serve` to the population it was trained
// on. Each version's rows are tested against its own recorded reference: neither drifts, where
// one reference for both would flag the first version's rows.

const PARAMS = smallParams();
const ROWS = 150;

let dir: string;
let from: string;
let to: string;

const { ok } = projectCli(() => dir);

/** Generated rows, with every weight `shift` kg more. */
function population(rows: number, seed: number, shift: number): { header: string[]; rows: string[][] } {
  const [head, ...lines] = generateObesity(rows, seed).trim().split('\n');
  const header = head!.split(',');
  const w = header.indexOf('Weight');
  return { header, rows: lines.map((l) => l.split(',').map((c, j) => (j === w ? String(Number(c) + shift) : c))) };
}

const csv = (p: { header: string[]; rows: string[][] }) => [p.header, ...p.rows].map((r) => r.join(',')).join('\n') + '\n';

/** Serves the champion to `rows` of a population (the target column left out), then stops the server. */
async function serve(p: { header: string[]; rows: string[][] }, expected: number): Promise<void> {
  const { child, url } = await startServe(dir, ['models:/obesity_classifier@champion']);
  try {
    const features = p.header.slice(0, -1);
    const records = p.rows.map((r) => Object.fromEntries(features.map((f, j) => [f, Number.isNaN(Number(r[j])) ? r[j] : Number(r[j])])));
    const response = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { model: { version: number } }).model.version, expected);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

before(async () => {
  dir = await championProject('mlops-monitor-versions-', PARAMS, 600);
  from = new Date().toISOString();
  await serve(population(ROWS, 31, 0), 1);
  // Version 2 is trained on the heavier population and takes the alias: its reference differs.
  writeFileSync(join(dir, 'data/raw/obesity.csv'), csv(population(600, 11, 25)));
  await ok('prepare');
  await ok('train');
  await ok('models', 'register', 'obesity_classifier', '--alias', 'champion');
  await serve(population(ROWS, 32, 25), 2);
  to = new Date(Date.now() + 60_000).toISOString();
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("monitor drift: when the alias moved, each version's rows are tested against that version's own reference", async () => {
  const v1 = JSON.parse((await ok('models', 'show', 'obesity_classifier', '1', '--json')).stdout);
  const v2 = JSON.parse((await ok('models', 'show', 'obesity_classifier', '2', '--json')).stdout);
  assert.notEqual(v1.files['reference.csv'], v2.files['reference.csv'], 'the two versions recorded different references');

  const report = JSON.parse((await ok('monitor', 'drift', '--from', from, '--to', to, '--json')).stdout);
  assert.deepEqual(report.model.versions, [1, 2]);
  // One window, one entry per version: each against its own reference, neither drifts.
  assert.deepEqual(report.windows.map((w: { versions: number[]; reference_version: number; rows: number }) => [w.versions, w.reference_version, w.rows]), [[[1], 1, ROWS], [[2], 2, ROWS]]);
  for (const w of report.windows) assert.equal(w.drift, false, JSON.stringify(w.columns.Weight));
  assert.equal(report.drift, false);
  // Checked on its own, version 1 is the same: its rows against its reference.
  const v1Rows = JSON.parse((await ok('monitor', 'drift', 'models:/obesity_classifier/1', '--from', from, '--to', to, '--json')).stdout);
  assert.equal(v1Rows.windows[0].drift, false);
  assert.ok(report.windows[0].columns.Weight.distance < 0.3, JSON.stringify(report.windows[0].columns.Weight));
  const table = (await ok('monitor', 'drift', '--from', from, '--to', to)).stdout;
  assert.match(table, /\bv1\b.*\bok\b/);
  assert.match(table, /\bv2\b.*\bok\b/);
});
