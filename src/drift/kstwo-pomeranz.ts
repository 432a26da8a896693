import { ldexp } from './kstwo-durbin.js';

// P(D_n <= x) for the two-sided one-sample statistic by Pomeranz's recursion (1974): 2n + 1 rows,
// each the convolution of a few contiguous entries of the previous row with truncated Poisson
// weights; n! times the last entry. Rows are rescaled by 2^128 when they would underflow.

const SCALE = 2 ** 128;

export function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const size = 2 * (ll + 1);
  // (g/n)^k/k!, (2g/n)^k/k!, ((1-2g)/n)^k/k!
  const gPow = new Float64Array(size);
  const twoGPow = new Float64Array(size);
  const restPow = new Float64Array(size);
  gPow[0] = twoGPow[0] = restPow[0] = 1;
  for (let k = 1; k < size; k++) {
    gPow[k] = (gPow[k - 1]! * (g / n)) / k;
    twoGPow[k] = (twoGPow[k - 1]! * ((2 * g) / n)) / k;
    restPow[k] = (restPow[k - 1]! * ((1 - 2 * g) / n)) / k;
  }
  const range = (i: number): [number, number] => {
    let j1: number;
    let j2: number;
    if (i === 0) {
      j1 = -ll - ceilf - 1;
      j2 = ll + ceilf - 1;
    } else {
      const half = Math.floor((i + 1) / 2);
      if ((i + 1) % 2 === 0) {
        if (half === n + 1) {
          j1 = n - ll - ceilf - 1;
          j2 = n + ll + ceilf - 1;
        } else {
          j1 = half - 1 - ll - roundf - 1;
          j2 = half + ll - 1 + ceilf - 1;
        }
      } else {
        j1 = half - 1 - ll - 1;
        j2 = half + ll + roundf - 1;
      }
    }
    return [Math.max(j1 + 2, 0), Math.min(j2, n)];
  };

  let prev = new Float64Array(size);
  let cur = new Float64Array(size);
  cur[0] = 1;
  let prevStart = 0;
  let curStart = 0;
  let exponent = 0;
  let [j1, j2] = range(0);
  for (let i = 1; i <= 2 * n + 1; i++) {
    const k1 = j1;
    [prev, cur] = [cur, prev];
    [prevStart, curStart] = [curStart, prevStart];
    cur.fill(0);
    [j1, j2] = range(i);
    const weights = i === 1 || i === 2 * n + 1 ? gPow : i % 2 ? twoGPow : restPow;
    const len = j2 - k1 + 1;
    if (len <= 0) continue;
    const from = k1 - prevStart;
    const available = Math.min(len, size - from); // the slice of the previous row that exists
    // cur[c] = (prev[from ..] * weights)[j1 - k1 + c]: only the needed part of the convolution.
    let max = 0;
    for (let c = 0; c <= j2 - j1; c++) {
      const idx = j1 - k1 + c;
      let s = 0;
      for (let a = Math.max(0, idx - len + 1); a <= Math.min(idx, available - 1); a++) s += prev[from + a]! * weights[idx - a]!;
      cur[c] = s;
      if (s > max) max = s;
    }
    if (max > 0 && max < 1 / SCALE) {
      for (let c = 0; c < size; c++) cur[c]! *= SCALE;
      exponent -= 128;
    }
    curStart = prevStart + j1 - k1;
  }
  let ans = cur[n - curStart]!;
  for (let k = 1; k <= n; k++) {
    if (Math.abs(ans) > SCALE) {
      ans /= SCALE;
      exponent += 128;
    }
    ans *= k;
  }
  return ldexp(ans, exponent);
}
