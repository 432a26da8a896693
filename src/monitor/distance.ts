// Effect sizes for drift, which, unlike p-values, do not go to zero as samples grow: on a million
// logged rows KS flags a shift nobody would act on, a distance says how large the shift is.
//
// - Wasserstein-1 distance between the two empirical distributions (the area between their CDFs,
//   scipy.stats.wasserstein_distance), divided by the reference's standard deviation so that one
//   threshold serves every column whatever its unit.
// - Population stability index over the reference's deciles (numeric) or over the categories:
//   sum over bins of (current - reference) * ln(current / reference) on the shares of each bin.

/** Wasserstein-1 distance of two non-empty ascending samples, by one merge over both. */
export function wasserstein(sortedA: Float64Array, sortedB: Float64Array): number {
  const n = sortedA.length;
  const m = sortedB.length;
  let i = 0;
  let j = 0;
  let previous = Math.min(sortedA[0]!, sortedB[0]!);
  let sum = 0;
  while (i < n || j < m) {
    const x = j >= m || (i < n && sortedA[i]! <= sortedB[j]!) ? sortedA[i]! : sortedB[j]!;
    // Between the previous point and x both CDFs are flat at i/n and j/m.
    sum += Math.abs(i / n - j / m) * (x - previous);
    previous = x;
    while (i < n && sortedA[i] === x) i++;
    while (j < m && sortedB[j] === x) j++;
  }
  return sum;
}

/** Population standard deviation (numpy's std, ddof 0) of a sample. */
export function standardDeviation(values: Float64Array): number {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return Math.sqrt(squares / values.length);
}

/**
 * The normalising spread: a constant reference column has none, and any move away from its one
 * value is then a drift, so the distance is divided by a tiny floor rather than left undefined.
 */
export const MIN_SPREAD = 1e-9;

/** Shares below this count as this, so a bin empty on one side gives a large but finite PSI. */
export const PSI_FLOOR = 1e-4;

/** numpy.quantile's default (linear) of an ascending sample, with numpy's interpolation formula. */
export function quantile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  const virtual = (n - 1) * q;
  const lo = Math.max(0, Math.min(n - 1, Math.floor(virtual)));
  const hi = Math.min(n - 1, lo + 1);
  const t = virtual - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** The distinct deciles of the reference: bins (-inf, e1], (e1, e2], ..., (ek, inf). */
export function decileEdges(sortedReference: Float64Array): Float64Array {
  const edges: number[] = [];
  for (let k = 1; k <= 9; k++) {
    const e = quantile(sortedReference, k / 10);
    if (edges.length === 0 || e > edges.at(-1)!) edges.push(e);
  }
  return Float64Array.from(edges);
}

/** How many values of an ascending sample are <= x. */
function countAtMost(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The share of an ascending sample in each bin the edges make (edges.length + 1 bins). */
export function binShares(sorted: Float64Array, edges: Float64Array): Float64Array {
  const shares = new Float64Array(edges.length + 1);
  let below = 0;
  edges.forEach((e, k) => {
    const atMost = countAtMost(sorted, e);
    shares[k] = (atMost - below) / sorted.length;
    below = atMost;
  });
  shares[edges.length] = (sorted.length - below) / sorted.length;
  return shares;
}

/** PSI of current against reference shares over the same bins. */
export function psi(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  let sum = 0;
  for (let k = 0; k < reference.length; k++) {
    const r = Math.max(reference[k]!, PSI_FLOOR);
    const c = Math.max(current[k]!, PSI_FLOOR);
    sum += (c - r) * Math.log(c / r);
  }
  return sum;
}

/** Shares of each category (the union of both samples', in first-seen order) in both samples. */
export function categoryShares(reference: readonly string[], current: readonly string[]): { reference: Float64Array; current: Float64Array } {
  const index = new Map<string, number>();
  const counts: [number[], number[]] = [[], []];
  [reference, current].forEach((sample, s) => {
    for (const v of sample) {
      let k = index.get(v);
      if (k === undefined) {
        k = index.size;
        index.set(v, k);
        counts[0].push(0);
        counts[1].push(0);
      }
      counts[s]![k]!++;
    }
  });
  const share = (c: number[], n: number) => Float64Array.from(c, (x) => x / n);
  return { reference: share(counts[0], reference.length), current: share(counts[1], current.length) };
}
