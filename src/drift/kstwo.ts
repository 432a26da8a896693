import { durbinCdf } from './kstwo-durbin.js';
import { pomeranzCdf } from './kstwo-pomeranz.js';
import { smirnovSf } from './smirnov.js';

// Survival function of the two-sided one-sample KS statistic D_n for finite n (scipy.stats.kstwo.sf,
// which ks_2samp's asymptotic method evaluates at n = round(n1 n2 / (n1 + n2))). The method is chosen
// per (n, x) as Simard & L'Ecuyer (2011) propose and scipy does: closed forms at the ends of the
// range, twice the one-sided Smirnov tail where the two tails cannot overlap or barely matter, and
// otherwise 1 - CDF from Durbin's matrix, Pomeranz's recursion or the Pelz-Good expansion.

const clip = (p: number) => Math.min(Math.max(p, 0), 1);

export function kstwoSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n < 1 || Number.isNaN(x)) return NaN;
  if (x <= 0.5 / n) return 1;
  if (x >= 1) return 0;
  const t = n * x;
  if (t <= 1) {
    // Ruben & Gambino: P(D_n <= x) = n!/n^n (2t - 1)^n for 1/(2n) <= x <= 1/n.
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= i * (1 / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip(1 - cdf);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 0.754693) return clip(1 - durbinCdf(n, x));
    if (nx2 <= 4) return clip(1 - pomeranzCdf(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, x));
  const cdf = n <= 100000 && n * x ** 1.5 <= 1.4 ? durbinCdf(n, x) : pelzGoodCdf(n, x);
  return clip(1 - cdf);
}

// Bernoulli-number coefficients of Stirling's series, highest power first.
const STIRLING = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
  -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];
const LOG_2PI = Math.log(2 * Math.PI);

/** ln(n!/n^n) by Stirling, with n ln n removed analytically so nothing cancels. */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  for (const c of STIRLING) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const SQRT2PI = Math.sqrt(2 * Math.PI);
const SQRT3 = Math.sqrt(3);

/**
 * Pelz & Good (1976): the Li-Chien / Korolyuk expansion K0 + K1/sqrt(n) + K2/n + K3/n^1.5 in z =
 * x sqrt(n), each K rewritten with Jacobi's theta identity into series that converge fast for small z.
 */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z3 = z ** 3;
  const z4 = z ** 4;
  const z6 = z ** 6;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  const q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  // Horner in q^8 over odd m = 2k - 1 of c(m) q^(m^2).
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k >= 1; k--) {
    const m2 = (2 * k - 1) ** 2;
    const m4 = (2 * k - 1) ** 4;
    const m6 = (2 * k - 1) ** 6;
    const qpower = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qpower + coeffs[i]!;
  }
  const denominators = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (((K[i]! * q) * SQRT2PI) / denominators[i]!);
  // The terms over all integers k of K2 and K3.
  const q2 = Math.exp(-PI2 / 2 / z2);
  const sqrt3z = SQRT3 * z;
  let k2extra = 0;
  let k3extra = 0;
  for (let k = maxk; k >= 1; k--) {
    const qk = q2 ** (k * k);
    k2extra += k * k * qk;
    k3extra += (sqrt3z + Math.PI * k) * (sqrt3z - Math.PI * k) * (k * k) * qk;
  }
  K[2]! += (k2extra * ((PI2 * SQRT2PI) / (-36 * z3)));
  K[3]! += (k3extra * ((PI2 * SQRT2PI) / (216 * z6)));
  let cdf = 0;
  for (let i = 0; i < 4; i++) cdf += K[i]! / n ** (i / 2);
  return cdf;
}
