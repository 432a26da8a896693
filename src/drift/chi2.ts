import gammainc from '@stdlib/math-base-special-gammainc';

export interface Chi2Result {
  statistic: number;
  pValue: number;
  dof: number;
}

/**
 * Pearson's chi-square test of homogeneity on the 2 x k table of category counts over the union of
 * both samples' categories (scipy.stats.chi2_contingency with correction=False). The upper tail comes
 * from the regularized upper incomplete gamma function, accurate far into the tail.
 */
export function chi2Homogeneity(sample1: readonly string[], sample2: readonly string[]): Chi2Result {
  const counts = new Map<string, [number, number]>();
  for (const v of sample1) (counts.get(v) ?? counts.set(v, [0, 0]).get(v)!)[0]++;
  for (const v of sample2) (counts.get(v) ?? counts.set(v, [0, 0]).get(v)!)[1]++;
  const n1 = sample1.length;
  const n2 = sample2.length;
  const total = n1 + n2;
  let statistic = 0;
  for (const [c1, c2] of counts.values()) {
    const column = c1 + c2;
    const e1 = (column * n1) / total;
    const e2 = (column * n2) / total;
    statistic += (c1 - e1) ** 2 / e1 + (c2 - e2) ** 2 / e2;
  }
  const dof = counts.size - 1;
  const pValue = dof === 0 ? 1 : gammainc(statistic / 2, dof / 2, true, true);
  return { statistic, pValue, dof };
}
