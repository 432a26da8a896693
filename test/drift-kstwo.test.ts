import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kstwoSf } from '../src/drift/kstwo.js';

// scipy.stats.kstwo.sf(x, n) from scipy 1.10.1 (Debian python3-scipy), one case per method the
// dispatcher can choose; the asymptotic two-sample path evaluates it at n = round(n1 n2 / (n1 + n2)).
const CASES: [number, number, number, string][] = [
  [5, 0.31622776601683794, 0.5998747061834244, 'Durbin n<=140'],
  [37, 0.23249527748763857, 0.03053969911766674, 'Pomeranz'],
  [100, 0.2449489742783178, 9.067751147174842e-6, '2 x Smirnov, n<=140'],
  [140, 0.14638501094227999, 0.004408218636137252, 'Pomeranz, n=140'],
  [1000, 0.03162277660168379, 0.2644092421903177, 'Durbin n<=1e5'],
  [99999, 0.004472158315847061, 0.03652167894697056, 'Pelz-Good'],
  [250000, 0.0017888543819998318, 0.40000572383253086, 'Pelz-Good'],
  [500000, 0.00223606797749979, 0.013455775407153484, '2 x Smirnov, n=500000'],
  [500000, 0.006324555320336759, 8.45810070559275e-18, '2 x Smirnov, small p'],
  [500000, 0.02449489742783178, 4.815137009914881e-261, '2 x Smirnov, tiny p'],
  [1500000, 0.0018257418583505537, 9.068940532846655e-5, 'Smirnov approximation, n>1e6'],
  [10, 0.07, 0.9999999619492741, 'Ruben-Gambino lower'],
  [20, 0.96, 2.199023255552039e-28, 'Ruben-Gambino upper'],
  [30, 0.6, 7.392006292214292e-11, 'x >= 0.5'],
];

for (const [n, x, expected, method] of CASES) {
  test(`kstwo.sf(${x}, ${n}) as scipy (${method})`, () => {
    const p = kstwoSf(n, x);
    const ok = Math.abs(p - expected) <= 1e-15 || Math.abs(p - expected) <= 1e-12 * expected;
    assert.ok(ok, `got ${p}, expected ${expected}`);
  });
}

test('kstwo.sf at the ends of its support', () => {
  assert.equal(kstwoSf(100, 0), 1);
  assert.equal(kstwoSf(100, 0.005), 1); // x <= 1/(2n)
  assert.equal(kstwoSf(100, 1), 0);
  assert.ok(Number.isNaN(kstwoSf(0, 0.5)));
});

test('kstwo.sf is non-increasing in x for sizes on every branch', () => {
  for (const n of [3, 50, 140, 141, 5000, 20000]) {
    let last = 1;
    for (let i = 1; i <= 40; i++) {
      const x = Math.sqrt((i * 0.25) / n);
      if (x >= 1) break;
      const p = kstwoSf(n, x);
      assert.ok(p >= 0 && p <= 1 && p <= last + 1e-15, `n=${n} x=${x}: ${p} after ${last}`);
      last = p;
    }
  }
});
