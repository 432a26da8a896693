import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import type { Table } from '../src/drift/read.js';
import { binShares, categoryShares, decileEdges, psi, quantile, standardDeviation, wasserstein } from '../src/monitor/distance.js';
import { monitorDrift, MONITOR_DEFAULTS, type MonitorDriftOptions } from '../src/monitor/drift.js';
import { heldDuring } from '../src/monitor/model.js';
import { parseGate, readLabels } from '../src/monitor/outcomes.js';
import { parseDuration, parseTime, periodFromFlags, windowIndex } from '../src/monitor/period.js';
import type { PredictionRecord } from '../src/predictions/record.js';
import { openPredictionLog, openPredictionReader, predictionLogUri } from '../src/predictions/open.js';
import { driftInParallel } from '../src/monitor/parallel.js';
import { Project } from '../src/project/project.js';
import { seededRandom, tempDir, writeFiles } from './helpers.js';

// The statistics monitoring adds to `mlops drift`'s: Wasserstein distance and PSI against values
// computed independently (scipy and numpy, or by hand), the windows, and the decision rules.

const sorted = (values: number[]) => Float64Array.from(values).sort();

function normal(random: () => number, n: number, mean = 0, sd = 1): number[] {
  return Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

/** scipy's answer for `code` run on the samples given as JSON, or the reason it cannot run. */
function python(code: string, input: unknown): unknown {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', `import json, sys\nimport numpy as np\nfrom scipy.stats import wasserstein_distance\nd = json.load(sys.stdin)\n${code}`], { input: JSON.stringify(input) }).toString());
}

const scipyMissing = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import scipy, numpy'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'needs /usr/bin/python3 with scipy and numpy (apt install python3-scipy)';
  }
})();

test('Wasserstein distance by hand: a shift moves every unit of mass by its size; ties and unequal sizes', () => {
  assert.equal(wasserstein(sorted([0, 1, 3]), sorted([5, 6, 8])), 5);
  assert.equal(wasserstein(sorted([1, 1, 1]), sorted([1])), 0);
  // F = 1/2 on [0, 1), G = 0 on [0, 2) then 1: |F - G| = 1/2 on [0,1), 1 on [1,2): 1.5
  assert.equal(wasserstein(sorted([0, 1]), sorted([2])), 1.5);
  assert.equal(wasserstein(sorted([2]), sorted([0, 1])), 1.5);
});

test('Wasserstein distance equals scipy.stats.wasserstein_distance', { skip: scipyMissing }, () => {
  const random = seededRandom(7);
  const cases = [
    [normal(random, 500), normal(random, 800, 0.3, 1.2)],
    [normal(random, 37).map(Math.round), normal(random, 91, 0.5).map(Math.round)],
    [normal(random, 2000, -40, 9), normal(random, 10, -38, 2)],
    [[1.5], [1.5, 2.5, 1e6]],
  ];
  const expected = python('print(json.dumps([wasserstein_distance(a, b) for a, b in d]))', cases) as number[];
  cases.forEach(([a, b], i) => {
    const ours = wasserstein(sorted(a!), sorted(b!));
    assert.ok(Math.abs(ours - expected[i]!) <= 1e-12 * Math.max(1, expected[i]!), `case ${i}: ${ours} vs scipy ${expected[i]}`);
  });
});

test('PSI over the reference deciles equals numpy: quantile edges, searchsorted bins, floored shares', { skip: scipyMissing }, () => {
  const random = seededRandom(11);
  const cases = [
    [normal(random, 1000), normal(random, 400, 0.4)],
    [normal(random, 300).map((x) => Math.round(x * 2)), normal(random, 300, 0.2).map((x) => Math.round(x * 2))],
    [normal(random, 10), normal(random, 5, 3)],
  ];
  const expected = python(
    `out = []
for a, b in d:
    a = np.array(a); b = np.array(b)
    edges = np.unique(np.quantile(a, [k / 10 for k in range(1, 10)]))
    share = lambda x: np.maximum(np.bincount(np.searchsorted(edges, x, side='left'), minlength=len(edges) + 1) / len(x), 1e-4)
    r, c = share(a), share(b)
    out.append([list(edges), float(np.sum((c - r) * np.log(c / r))), float(np.std(a))])
print(json.dumps(out))`,
    cases,
  ) as [number[], number, number][];
  cases.forEach(([a, b], i) => {
    const ref = sorted(a!);
    const edges = decileEdges(ref);
    assert.deepEqual([...edges], expected[i]![0], `case ${i}: edges`);
    const ours = psi(binShares(ref, edges), binShares(sorted(b!), edges));
    assert.ok(Math.abs(ours - expected[i]![1]) < 1e-12, `case ${i}: PSI ${ours} vs numpy ${expected[i]![1]}`);
    assert.ok(Math.abs(standardDeviation(ref) - expected[i]![2]) < 1e-12);
  });
});

test('PSI by hand: deciles of 1..10, categories, and the floor for an empty bin', () => {
  const ref = sorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(quantile(ref, 0.5), 5.5);
  assert.ok(Math.abs(quantile(ref, 0.1) - 1.9) < 1e-15 && Math.abs(quantile(ref, 0.9) - 9.1) < 1e-15);
  assert.deepEqual([...decileEdges(ref)].map((e) => Number(e.toFixed(12))), [1.9, 2.8, 3.7, 4.6, 5.5, 6.4, 7.3, 8.2, 9.1]);
  assert.ok(Math.abs(psi(binShares(ref, decileEdges(ref)), binShares(ref, decileEdges(ref)))) < 1e-15);
  // reference shares a: 0.5, b: 0.5; current a: 1 (b empty, floored at 1e-4)
  const s = categoryShares(['a', 'b'], ['a', 'a']);
  const expected = (1 - 0.5) * Math.log(1 / 0.5) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5);
  assert.equal(psi(s.reference, s.current), expected);
});

test('periods: --since, --from/--to in ISO 8601, windows cut from the start; bad flags are one usage line', () => {
  const now = new Date('2026-11-30T12:00:00Z');
  const p = periodFromFlags({ since: '7d', window: '1d' }, now);
  assert.equal(p.from.toISOString(), '2026-11-23T12:00:00.000Z');
  assert.equal(p.window, 86_400_000);
  assert.equal(windowIndex(p, Date.parse('2026-11-23T12:00:00Z')), 0);
  assert.equal(windowIndex(p, Date.parse('2026-11-30T11:59:59.999Z')), 6);
  assert.equal(windowIndex(p, Date.parse('2026-11-30T12:00:00Z')), -1);
  const q = periodFromFlags({ from: '2026-11-01', to: '2026-11-02T06:00:00+01:00' }, now);
  assert.equal(q.to.toISOString(), '2026-11-02T05:00:00.000Z');
  assert.equal(q.window, q.to.getTime() - q.from.getTime());
  assert.equal(parseDuration('30m', '--since'), 1_800_000);
  for (const [flags, message] of [
    [{ since: '7', window: undefined }, /--since: expected a duration such as 30m/],
    [{ since: '1d', from: '2026-11-01' }, /--since goes alone/],
    [{ to: '2026-11-01' }, /--to needs --from/],
    [{ from: '2026-11-02', to: '2026-11-01' }, /--to must be after --from/],
    [{ from: '2026-11-01T08:00' }, /--from: expected an ISO 8601 time with its zone/],
    [{ since: '30d', window: '1s' }, /--window: 2592000 windows in the period; at most 10000/],
  ] as const) {
    assert.throws(() => periodFromFlags(flags as never, now), message);
  }
  assert.throws(() => parseTime('yesterday', '--from'), /--from: expected an ISO 8601 time/);
});

test('the versions an alias held in the period, from its recorded moves', () => {
  const e = (time: string, to: number | null, alias = 'champion') => ({ time, user: 'u', action: 'promote' as const, alias, from: null, to, reason: '' });
  const events = [e('2026-11-01T00:00:00Z', 1), e('2026-11-10T00:00:00Z', 2), e('2026-11-12T00:00:00Z', 3, 'staging'), e('2026-11-20T00:00:00Z', 4)];
  const period = (from: string, to: string) => ({ from: new Date(from), to: new Date(to) });
  assert.deepEqual(heldDuring(events, 'champion', period('2026-11-05T00:00:00Z', '2026-11-15T00:00:00Z'), 4), [1, 2, 4]);
  assert.deepEqual(heldDuring(events, 'champion', period('2026-11-21T00:00:00Z', '2026-11-22T00:00:00Z'), 4), [4]);
});

test('outcome gates and labels files: METRIC=NUMBER, duplicate ids with both lines', (t) => {
  assert.deepEqual(parseGate('log_loss=1.05', 'max'), { metric: 'log_loss', bound: 'max', value: 1.05 });
  assert.throws(() => parseGate('auc=0.5', 'min'), /--min auc=0.5: expected METRIC=NUMBER with METRIC one of accuracy, f1_macro, log_loss, brier/);
  const dir = tempDir(t);
  writeFiles(dir, { 'l.csv': 'request_id,y\n007,1\n008,1.0\n' });
  const labels = readLabels(`${dir}/l.csv`, 'request_id', 'y');
  assert.deepEqual([...labels.byKey].map(([k, v]) => [k, v.label]), [['007', '1'], ['008', '1.0']], 'ids and labels as written');
});

/** An in-memory log: the reader interface over records already in time order. */
function memoryReader(records: PredictionRecord[]) {
  return {
    async *inputs(q: { from?: Date; to?: Date }) {
      for (const r of records) if ((!q.from || Date.parse(r.time) >= q.from.getTime()) && (!q.to || Date.parse(r.time) < q.to.getTime())) yield r;
    },
  };
}

const record = (time: number, x: number, c: string): PredictionRecord => ({
  request_id: String(time), time: new Date(time).toISOString(), model: { name: 'm', version: 1 }, input: { x, c }, prediction: 'a', probabilities: { a: 1 }, latency_ms: 1,
});

test('decision rules on a large log: a tiny shift is significant (p-value) but small (distance); both flags only the large one', async () => {
  const random = seededRandom(3);
  const refX = normal(random, 20_000);
  const reference: Table = { file: 'ref', columns: ['x', 'c'], values: new Map<string, unknown[]>([['x', refX], ['c', refX.map((v) => (v > 0 ? 'p' : 'n'))]]) };
  const day = 86_400_000;
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  // Day 0: shifted by 0.05 sd (real but negligible); day 1: by 1 sd; day 2: 50 rows only.
  const records = [
    ...normal(random, 30_000, 0.05).map((x, i) => record(t0 + (i * day) / 30_000, x, x > 0 ? 'p' : 'n')),
    ...normal(random, 30_000, 1).map((x, i) => record(t0 + day + (i * day) / 30_000, x, x > 0 ? 'p' : 'n')),
    ...normal(random, 50).map((x, i) => record(t0 + 2 * day + i, x, 'p')),
  ];
  const period = periodFromFlags({ from: '2026-11-01', to: '2026-11-03T12:00:00Z', window: '1d' }, new Date());
  const options = (rule: MonitorDriftOptions['rule']): MonitorDriftOptions => ({ ...MONITOR_DEFAULTS, test: 'auto', alternative: 'two-sided', threshold: 0.05, correction: 'bonferroni', rule });
  const run = (rule: MonitorDriftOptions['rule']) => monitorDrift(memoryReader(records), { model: 'm', versions: [1] }, reference, period, options(rule));
  const byP = await run('p-value');
  assert.deepEqual(byP.map((w) => w.status), ['drift', 'drift', 'too_small']);
  assert.ok(byP[0]!.columns.x!.p_adjusted < 0.05 && byP[0]!.columns.x!.distance < 0.1, JSON.stringify(byP[0]!.columns.x));
  assert.ok(byP[1]!.columns.x!.distance > 0.9 && byP[1]!.columns.x!.psi > 0.5);
  assert.deepEqual(byP[2], { from: '2026-11-03T00:00:00.000Z', to: '2026-11-03T12:00:00.000Z', rows: 50, status: 'too_small', drift: null, share: null, drifted_columns: [], columns: {} });
  const both = await run('both');
  assert.deepEqual(both.map((w) => w.drift), [false, true, null]);
  assert.deepEqual(both[1]!.drifted_columns, ['x', 'c']);
  const byDistance = await run('distance');
  assert.deepEqual(byDistance.map((w) => w.drift), [false, true, null]);
  // The categorical column's distance is its PSI over the categories.
  assert.equal(both[1]!.columns.c!.distance, both[1]!.columns.c!.psi);
  assert.equal(both[1]!.columns.c!.wasserstein, undefined);
});

test('worker threads and the calling thread give the same windows from a real SQLite log', async (t) => {
  const dir = tempDir(t);
  const project = Project.open(dir);
  const random = seededRandom(5);
  const refX = normal(random, 2_000);
  const reference: Table = { file: 'ref', columns: ['x', 'c'], values: new Map<string, unknown[]>([['x', refX], ['c', refX.map((v) => (v > 0 ? 'p' : 'n'))]]) };
  const day = 86_400_000;
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  const records = [0, 0.5, 1, 0].flatMap((shift, d) => normal(random, 600, shift).map((x, i) => record(t0 + d * day + i * 1000, x, x > 0 ? 'p' : 'n')));
  const log = await openPredictionLog(project, { onError: (e) => assert.fail(e) });
  log.append(records);
  await log.close();
  const period = periodFromFlags({ from: '2026-11-01', to: '2026-11-05', window: '1d' }, new Date());
  const options: MonitorDriftOptions = { ...MONITOR_DEFAULTS, test: 'auto', alternative: 'two-sided', threshold: 0.05, correction: 'bonferroni', rule: 'both' };
  const query = { model: 'm', versions: [1] };
  const reader = await openPredictionReader(project);
  try {
    const here = await monitorDrift(reader, query, reference, period, options);
    const threads = await driftInParallel({ uri: predictionLogUri(project), root: dir }, query, reference, period, options);
    assert.deepEqual(threads, here);
    assert.deepEqual(here.map((w) => w.rows), [600, 600, 600, 600]);
    assert.equal(here[2]!.drift, true);
  } finally {
    await reader.close();
  }
});
