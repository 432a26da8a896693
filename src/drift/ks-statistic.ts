export type Alternative = 'two-sided' | 'less' | 'greater';
export const ALTERNATIVES: readonly Alternative[] = ['two-sided', 'less', 'greater'];

/**
 * The two-sample KS statistic from two ascending samples: both empirical CDFs are evaluated just
 * after every pooled value (a tied value counts fully in both), as scipy's ks_2samp does, with the
 * same divisions so the result is the same double. `greater` is max(F1 - F2), `less` is
 * max(F2 - F1) clipped at 0, `two-sided` the larger of the two.
 */
export function ksStatistic(sorted1: Float64Array, sorted2: Float64Array, alternative: Alternative): number {
  const n1 = sorted1.length;
  const n2 = sorted2.length;
  let i = 0;
  let j = 0;
  let max = -Infinity;
  let min = Infinity;
  while (i < n1 || j < n2) {
    const value = j >= n2 || (i < n1 && sorted1[i]! <= sorted2[j]!) ? sorted1[i]! : sorted2[j]!;
    while (i < n1 && sorted1[i]! <= value) i++;
    while (j < n2 && sorted2[j]! <= value) j++;
    const diff = i / n1 - j / n2;
    if (diff > max) max = diff;
    if (diff < min) min = diff;
  }
  const plus = max;
  const minus = Math.min(Math.max(-min, 0), 1);
  if (alternative === 'greater') return plus;
  if (alternative === 'less') return minus;
  return minus > plus ? minus : plus;
}
