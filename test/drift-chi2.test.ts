import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chi2Homogeneity } from '../src/drift/chi2.js';
import { adjustPValues } from '../src/drift/corrections.js';

const repeat = (counts: Record<string, number>) => Object.entries(counts).flatMap(([k, n]) => Array<string>(n).fill(k));
const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('chi-square homogeneity, 3 categories: hand-computed statistic and the exact 2-dof tail', () => {
  // Column totals 30, 15, 15 over n1 = n2 = 30: expected 15, 7.5, 7.5 per row.
  // X2 = 2 (5^2/15) + 4 (2.5^2/7.5) = 20/3; with 2 dof the tail is exactly exp(-X2/2).
  const r = chi2Homogeneity(repeat({ a: 10, b: 10, c: 10 }), repeat({ a: 20, b: 5, c: 5 }));
  near(r.statistic, 20 / 3, 'statistic');
  assert.equal(r.dof, 2);
  near(r.pValue, Math.exp(-10 / 3), 'p-value');
});

test('chi-square homogeneity, unequal sizes and a category only one side has', () => {
  // Counts [[6, 4, 0], [3, 3, 4]], n1 = n2 = 10: expected 4.5, 3.5, 2 per row.
  // X2 = 2 (1.5^2/4.5) + 2 (0.5^2/3.5) + 2 (2^2/2) = 1 + 1/7 + 4; 2 dof.
  const r = chi2Homogeneity(repeat({ x: 6, y: 4 }), repeat({ x: 3, y: 3, z: 4 }));
  near(r.statistic, 1 + 1 / 7 + 4, 'statistic');
  near(r.pValue, Math.exp(-(1 + 1 / 7 + 4) / 2), 'p-value');
});

test('chi-square with one category on both sides: nothing to test, p = 1', () => {
  const r = chi2Homogeneity(['a', 'a'], ['a']);
  assert.equal(r.statistic, 0);
  assert.equal(r.pValue, 1);
});

test('chi-square with 1 dof: the tail is erfc(sqrt(X2/2))', () => {
  // 2x2 counts [[30, 10], [20, 20]]: expected 25, 15 per row, X2 = 16/3.
  const r = chi2Homogeneity(repeat({ a: 30, b: 10 }), repeat({ a: 20, b: 20 }));
  near(r.statistic, 2 * (25 / 25) + 2 * (25 / 15), 'statistic');
  // P(chi2_1 > 16/3) = erfc(sqrt(8/3)) = 0.02092133533779403 (scipy.special.erfc).
  near(r.pValue, 0.02092133533779403, 'p-value');
});

test('corrections: none, Bonferroni and Benjamini-Hochberg by hand', () => {
  const p = [0.01, 0.04, 0.03, 0.5];
  assert.deepEqual(adjustPValues(p, 'none'), p);
  assert.deepEqual(adjustPValues(p, 'bonferroni'), [0.04, 0.16, 0.12, 1]);
  // Ranked 0.01, 0.03, 0.04, 0.5 -> p k / rank = 0.04, 0.06, 0.0533, 0.5; running minimum from the top.
  const fdr = adjustPValues(p, 'fdr');
  [0.04, 0.16 / 3, 0.16 / 3, 0.5].forEach((e, i) => near(fdr[i]!, e, `fdr[${i}]`));
});
