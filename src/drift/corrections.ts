export type Correction = 'none' | 'bonferroni' | 'fdr';
export const CORRECTIONS: readonly Correction[] = ['none', 'bonferroni', 'fdr'];

/**
 * Multiple-testing adjusted p-values, compared against the threshold as they are: Bonferroni
 * (p k, family-wise error) or Benjamini-Hochberg (false discovery rate: the running minimum from the
 * largest p down of p k / rank).
 */
export function adjustPValues(pValues: readonly number[], correction: Correction): number[] {
  const k = pValues.length;
  if (correction === 'none') return [...pValues];
  if (correction === 'bonferroni') return pValues.map((p) => Math.min(1, p * k));
  const order = pValues.map((_, i) => i).sort((a, b) => pValues[a]! - pValues[b]!);
  const adjusted = new Array<number>(k);
  let running = 1;
  for (let rank = k; rank >= 1; rank--) {
    const i = order[rank - 1]!;
    running = Math.min(running, (pValues[i]! * k) / rank);
    adjusted[i] = running;
  }
  return adjusted;
}
