import { asymptoticPValue } from './ks-asymptotic.js';
import { exactPValue, latticeStep } from './ks-exact.js';
import { type Alternative, ksStatistic } from './ks-statistic.js';
import { sortFloat64 } from './sort.js';

/** Above this size (of the larger sample) the exact distribution gives way to the asymptotic one. */
export const MAX_EXACT_N = 10000;

export interface KsResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
}

/**
 * Two-sample Kolmogorov-Smirnov test, equal to scipy.stats.ks_2samp(x, y, alternative, method='auto').
 * The samples must be non-empty and sorted ascending (the caller owns them, so no copy is made).
 */
export function ks2Sorted(sorted1: Float64Array, sorted2: Float64Array, alternative: Alternative = 'two-sided'): KsResult {
  const n1 = sorted1.length;
  const n2 = sorted2.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('KS test needs two non-empty samples');
  const d = ksStatistic(sorted1, sorted2, alternative);
  let p: number;
  let method: KsResult['method'];
  let statistic = d;
  if (Math.max(n1, n2) <= MAX_EXACT_N) {
    const { h, lcm } = latticeStep(n1, n2, d);
    statistic = h / lcm;
    p = exactPValue(n1, n2, h, alternative);
    method = 'exact';
  } else {
    p = asymptoticPValue(n1, n2, d, alternative);
    method = 'asymptotic';
  }
  return { statistic, pValue: Math.min(Math.max(p, 0), 1), method };
}

/** The same test on unsorted samples (copied, then sorted). */
export function ks2(sample1: ArrayLike<number>, sample2: ArrayLike<number>, alternative: Alternative = 'two-sided'): KsResult {
  return ks2Sorted(sortFloat64(Float64Array.from(sample1)), sortFloat64(Float64Array.from(sample2)), alternative);
}
