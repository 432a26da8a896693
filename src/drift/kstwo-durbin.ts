// P(D_n <= d) for the two-sided one-sample statistic by Durbin's matrix method, computed as
// Marsaglia, Tsang & Wang (2003) do: the k-th diagonal entry of H^n times n!/n^n, with H raised to
// the n-th power by squaring and the running values rescaled by 2^128 so nothing under- or
// overflows. Memory O(m^2), time O(m^3 log n) with m = 2 ceil(n d) - 1: for small n d only.

const SCALE = 2 ** 128;

export function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac; // 1/(j-1)!
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac; // (1 - h^j)/j!
  }
  v[m - 1] = (1 + (Math.max(2 * h - 1, 0) ** m - 2 * h ** m)) * fac;
  let power: Float64Array = new Float64Array(m * m);
  for (let r = 0; r < m; r++) for (let c = 1; c <= r + 1 && c < m; c++) power[r * m + c] = w[r - c + 1]!;
  for (let r = 0; r < m; r++) power[r * m] = v[r]!;
  for (let c = 0; c < m; c++) power[(m - 1) * m + c] = v[m - 1 - c]!;

  let result: Float64Array = identity(m);
  let exponent = 0;
  let powerExponent = 0;
  for (let e = n; e > 0; e = Math.floor(e / 2)) {
    if (e % 2) {
      result = multiply(result, power, m);
      exponent += powerExponent;
    }
    power = multiply(power, power, m);
    powerExponent *= 2;
    if (Math.abs(power[(k - 1) * m + k - 1]!) > SCALE) {
      for (let i = 0; i < power.length; i++) power[i]! /= SCALE;
      powerExponent += 128;
    }
  }
  let p = result[(k - 1) * m + k - 1]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < 1 / SCALE) {
      p *= SCALE;
      exponent -= 128;
    }
  }
  return ldexp(p, exponent);
}

function identity(m: number): Float64Array {
  const a = new Float64Array(m * m);
  for (let i = 0; i < m; i++) a[i * m + i] = 1;
  return a;
}

function multiply(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < m; j++) c[i * m + j]! += aik * b[k * m + j]!;
    }
  }
  return c;
}

/** x * 2^e in steps that stay inside the double range. */
export function ldexp(x: number, e: number): number {
  while (e > 1000) (x *= 2 ** 1000), (e -= 1000);
  while (e < -1000) (x *= 2 ** -1000), (e += 1000);
  return x * 2 ** e;
}
