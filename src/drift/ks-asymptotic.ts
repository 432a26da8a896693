import type { Alternative } from './ks-statistic.js';
import { kstwoSf } from './kstwo.js';
import { roundHalfEven } from './ks-exact.js';

/**
 * Large-sample p-value for the two-sample statistic, as scipy's method 'asymp': two-sided from the
 * finite-n one-sample distribution at the effective size n1 n2 / (n1 + n2); one-sided from Hodges'
 * refinement of Smirnov's limit (his eq. 5.3), which needs m to be the larger sample.
 */
export function asymptoticPValue(n1: number, n2: number, d: number, alternative: Alternative): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  if (alternative === 'two-sided') return kstwoSf(roundHalfEven(en), d);
  const z = Math.sqrt(en) * d;
  return Math.exp(-2 * z ** 2 - (2 * z * (m + 2 * n)) / Math.sqrt(m * n * (m + n)) / 3);
}
