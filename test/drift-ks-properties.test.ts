import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asymptoticPValue } from '../src/drift/ks-asymptotic.js';
import { exactPValue } from '../src/drift/ks-exact.js';
import { ks2 } from '../src/drift/ks-test.js';

/** A deterministic pseudo-random sample (mulberry32), so failures reproduce. */
function sample(n: number, seed: number, shift = 0): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 + shift;
  }
  return out;
}

test('identical samples: D = 0 and p = 1, exact and asymptotic, every alternative', () => {
  for (const n of [1, 7, 500, 12000]) {
    const x = sample(n, n);
    for (const alternative of ['two-sided', 'greater', 'less'] as const) {
      const r = ks2(x, x, alternative);
      assert.equal(r.statistic, 0);
      assert.equal(r.pValue, 1);
    }
  }
});

test('p never increases with D for fixed sizes (exact, both shapes, every alternative)', () => {
  for (const [n1, n2] of [[40, 40], [30, 45], [7, 300]] as const) {
    const lcm = (n1 * n2) / gcdOf(n1, n2);
    for (const alternative of ['two-sided', 'greater'] as const) {
      let last = 1;
      for (let h = 1; h <= lcm; h++) {
        const p = exactPValue(n1, n2, h, alternative);
        assert.ok(p >= 0 && p <= 1 && p <= last * (1 + 1e-12), `${n1}x${n2} ${alternative} h=${h}: ${p} > ${last}`);
        last = p;
      }
    }
  }
});

test('exact and asymptotic p-values agree closely for large samples', () => {
  for (const [n1, n2] of [[3000, 3000], [2000, 2500]] as const) {
    for (const d of [0.02, 0.03, 0.04]) {
      for (const alternative of ['two-sided', 'greater'] as const) {
        const lcm = (n1 * n2) / gcdOf(n1, n2);
        const h = Math.round(d * lcm);
        const exact = exactPValue(n1, n2, h, alternative);
        const asymptotic = asymptoticPValue(n1, n2, h / lcm, alternative);
        assert.ok(Math.abs(exact - asymptotic) <= 0.05 * exact, `${n1}x${n2} ${alternative} D=${d}: ${exact} vs ${asymptotic}`);
      }
    }
  }
});

test('the largest exact sizes stay finite and in [0, 1]: 10000 vs 9999 and 10000 vs 10000', () => {
  const x = sample(10000, 1);
  for (const [y, shift] of [[sample(9999, 2, 0.02), 0.02], [sample(10000, 3, 0.5), 0.5], [sample(9999, 4, 0.5), 0.5]] as const) {
    const r = ks2(x, y);
    assert.equal(r.method, 'exact');
    assert.ok(Number.isFinite(r.pValue) && r.pValue >= 0 && r.pValue <= 1, `shift ${shift}: ${r.pValue}`);
    if (shift === 0.5) assert.ok(r.pValue < 1e-100);
  }
  const one = ks2(x, sample(9999, 5, 0.01), 'greater');
  assert.ok(Number.isFinite(one.pValue) && one.pValue > 0 && one.pValue < 1);
});

test('above 10000 per sample the asymptotic distribution is used', () => {
  const r = ks2(sample(10001, 6), sample(300, 7, 0.1));
  assert.equal(r.method, 'asymptotic');
  assert.ok(r.pValue > 0 && r.pValue < 1);
});

function gcdOf(a: number, b: number): number {
  return b ? gcdOf(b, a % b) : a;
}
