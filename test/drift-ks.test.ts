import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exactPValue, latticeStep } from '../src/drift/ks-exact.js';
import { type Alternative, ksStatistic } from '../src/drift/ks-statistic.js';
import { ks2 } from '../src/drift/ks-test.js';

// Cases from scipy's own test suite for ks_2samp (see ../shared/reference/ks-test.md):
// the statistic must be the same double, the p-value within 1e-12 relative or 1e-15 absolute.

const linspace = (start: number, stop: number, num: number) =>
  Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : start + i * ((stop - start) / (num - 1))));
const rep = (...parts: [number, number][]) => parts.flatMap(([v, k]) => Array<number>(k).fill(v));

function close(actual: number, expected: number, what: string): void {
  const ok = Math.abs(actual - expected) <= 1e-15 || Math.abs(actual - expected) <= 1e-12 * Math.abs(expected);
  assert.ok(ok, `${what}: got ${actual}, expected ${expected}`);
}

const x100 = linspace(1, 100, 100);
const a16 = rep([2, 3], [3, 4], [5, 5], [6, 4]);
type Row = [string, number[], number[], Record<Alternative, [number, number]>];
const TABLE: Row[] = [
  ['[0] vs [1]', [0], [1], { 'two-sided': [1, 1], greater: [1, 0.5], less: [0, 1] }],
  ['[1.01,2.01] vs [1,2,3]', [1.01, 2.01], [1, 2, 3], { 'two-sided': [1 / 3, 1], greater: [1 / 3, 0.7], less: [1 / 3, 0.7] }],
  ['[0.99,1.99] vs [1,2,3]', [0.99, 1.99], [1, 2, 3], { 'two-sided': [2 / 3, 0.6], greater: [2 / 3, 0.3], less: [0, 1] }],
  ['[1.01,2.01] vs [1,2,3,4]', [1.01, 2.01], [1, 2, 3, 4], { 'two-sided': [2 / 4, 14 / 15], greater: [2 / 4, 8 / 15], less: [1 / 4, 12 / 15] }],
  ['[0.99,1.99] vs [1,2,3,4]', [0.99, 1.99], [1, 2, 3, 4], { 'two-sided': [3 / 4, 6 / 15], greater: [3 / 4, 3 / 15], less: [0, 1] }],
  ['[1,2,3] vs [2,3,4]', [1, 2, 3], [2, 3, 4], { 'two-sided': [1 / 3, 1], greater: [1 / 3, 0.75], less: [0, 1] }],
  ['linspace(1,100,100) vs +2.1', x100, x100.map((v) => v + 2.1),
    { 'two-sided': [0.03, 0.999999999996206], greater: [0.03, 0.9143290114276248], less: [0, 1] }],
  ['linspace(1,100,100) vs linspace(1,100,110)+20.1', x100, linspace(1, 100, 110).map((v) => v + 20.1),
    { 'two-sided': [232 / 1100, 0.015739183865607353], greater: [232 / 1100, 0.007869594319053203], less: [0, 1] }],
  ['ties: a vs a+1', a16, a16.map((v) => v + 1),
    { 'two-sided': [5 / 16, 0.4262934613454952], greater: [5 / 16, 0.21465428276573786], less: [0, 1] }],
  ['ties: two step samples', rep([2, 3], [3, 4], [5, 10], [6, 4]), rep([3, 10], [4, 2], [6, 10], [7, 4]),
    { 'two-sided': [190 / 546, 0.0919245790168125], greater: [190 / 546, 0.0459633806858544], less: [70 / 546, 0.6121593130022775] }],
];

for (const [name, x, y, expected] of TABLE) {
  for (const alternative of ['two-sided', 'greater', 'less'] as const) {
    test(`scipy table: ${name}, ${alternative}`, () => {
      const r = ks2(x, y, alternative);
      const [d, p] = expected[alternative];
      assert.equal(r.statistic, d);
      assert.equal(r.method, 'exact');
      close(r.pValue, p, 'p-value');
    });
  }
}

test('scipy asymptotic case (500 vs 600, method asymp) for all three alternatives', async () => {
  const { asymptoticPValue } = await import('../src/drift/ks-asymptotic.js');
  const delta = 1 / (500 * 600 * 4);
  const x = Float64Array.from(linspace(1, 200, 500), (v) => v - delta).sort();
  const y = Float64Array.from(linspace(2, 200, 600)).sort();
  const expected: Record<Alternative, [number, number]> = {
    'two-sided': [2000 / 300000, 1.0],
    greater: [2000 / 300000, 0.9697596024683929],
    less: [500 / 300000, 0.9968735843165021],
  };
  for (const alternative of ['two-sided', 'greater', 'less'] as const) {
    const d = ksStatistic(x, y, alternative);
    const [ed, ep] = expected[alternative];
    close(d, ed, `${alternative} statistic`);
    close(asymptoticPValue(500, 600, d, alternative), ep, `${alternative} p-value`);
  }
});

test('exact p-values equal a brute-force count over every arrangement of two small samples', () => {
  // All C(10, 4) ways to interleave 4 and 6 distinct values: the null distribution of D itself.
  for (const [n1, n2] of [[4, 6], [5, 5], [3, 7]] as const) {
    const all: Record<Alternative, number[]> = { 'two-sided': [], greater: [], less: [] };
    const total = n1 + n2;
    for (let mask = 0; mask < 1 << total; mask++) {
      let bits = 0;
      for (let b = mask; b; b &= b - 1) bits++;
      if (bits !== n1) continue;
      const x: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < total; i++) ((mask >> i) & 1 ? x : y).push(i);
      for (const alt of ['two-sided', 'greater', 'less'] as const) all[alt].push(ksStatistic(Float64Array.from(x), Float64Array.from(y), alt));
    }
    for (const alt of ['two-sided', 'greater', 'less'] as const) {
      for (const d of new Set(all[alt])) {
        const { h } = latticeStep(n1, n2, d);
        const share = all[alt].filter((e) => e >= d - 1e-12).length / all[alt].length;
        close(exactPValue(n1, n2, h, alt), share, `${n1}x${n2} ${alt} D=${d}`);
      }
    }
  }
});
