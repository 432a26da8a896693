import type { Alternative } from './ks-statistic.js';

// Exact null distribution of the two-sample statistic by lattice-path counting (Hodges 1958), as
// scipy does for method 'exact'. Every count is kept as a probability (scaled by the binomial as it
// is built, Viehmann 2021), so nothing overflows at any size; scipy's one-sided count for unequal
// sizes uses plain binomials and gives up above about n1 + n2 = 1000, this one does not.

export function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** D rounded onto the lattice of attainable values: h / lcm(n1, n2). */
export function latticeStep(n1: number, n2: number, d: number): { h: number; lcm: number } {
  const lcm = (n1 / gcd(n1, n2)) * n2;
  return { h: roundHalfEven(d * lcm), lcm };
}

/** P(D >= h / lcm) under the null, for h >= 1 (h = 0 gives 1). */
export function exactPValue(n1: number, n2: number, h: number, alternative: Alternative): number {
  if (h === 0) return 1;
  if (n1 === n2) return alternative === 'two-sided' ? outsideSquare(n1, h) : oneSidedSquare(n1, h);
  return outsideBand(n1, n2, h, alternative === 'two-sided');
}

/** Equal sizes, one side: binom(2n, n-h) / binom(2n, n) as a product of h ratios. */
function oneSidedSquare(n: number, h: number): number {
  let p = 1;
  for (let j = 0; j < h; j++) p *= (n - j) / (n + j + 1);
  return p;
}

/**
 * Equal sizes, both sides: 2 * sum_k (-1)^(k+1) binom(2n, n - k h) / binom(2n, n), evaluated from the
 * innermost term outwards (A0 (1 - A1 (1 - A2 (...)))) so the alternating sum does not cancel.
 */
function outsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let ratio = 1;
    for (let j = 0; j < h; j++) ratio = ((n - k * h - j) * ratio) / (n + k * h + j + 1);
    p = ratio * (1 - p);
  }
  return 2 * p;
}

/**
 * Unequal sizes: walk the lattice column by column, keeping for each point inside the band the
 * probability that a uniformly random path to it has already left the band. Points outside count 1.
 * A path to (i, j) comes from (i-1, j) with probability i/(i+j) and from (i, j-1) with j/(i+j).
 * Only the window of rows inside the band is stored. Two-sided: |ng i - mg j| < h; one-sided: only
 * the lower line ng i - mg j < h (the count is the same for either side by symmetry).
 */
const TINY = 2 ** -1000;

function outsideBand(n1: number, n2: number, h: number, twoSided: boolean): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const g = gcd(m, n);
  const mg = m / g;
  const ng = n / g;
  const top = (i: number) => (twoSided ? Math.min(Math.ceil((ng * i + h) / mg), n + 1) : n + 1);
  // a[k] holds row minj + k of the current column; rows past the window read as 1 (outside).
  // Far from the lower line the values underflow to 0; rows from zeroFrom up to the previous window's
  // top are 0 in the previous column, so a run of them stays 0 and is skipped, not computed.
  const a = new Float64Array(n + 2).fill(1);
  let minj = 0;
  let maxj = top(0);
  let zeroFrom = 0;
  a.fill(0, 0, maxj);
  for (let i = 1; i <= m; i++) {
    const lastMin = minj;
    const lastMax = maxj;
    const lastLen = maxj - minj;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = top(i);
    if (maxj <= minj) return 1;
    let below = minj === 0 ? 0 : 1;
    let tail = minj; // first row of the column's trailing run of zeros
    const shift = minj - lastMin;
    for (let j = minj; j < maxj; j++) {
      if (below === 0 && j >= zeroFrom && j < lastMax) {
        const end = Math.min(lastMax, maxj);
        a.fill(0, j - minj, end - minj);
        j = end - 1;
        continue;
      }
      const k = j - minj;
      below = (a[k + shift]! * i + below * j) / (i + j);
      if (below < TINY) below = 0; // subnormals are slow and cannot move p by 1e-290
      else tail = j + 1;
      a[k] = below;
    }
    zeroFrom = tail;
    const len = maxj - minj;
    if (lastLen > len) a.fill(1, len, lastLen);
  }
  return a[maxj - minj - 1]!;
}

/** numpy's round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
