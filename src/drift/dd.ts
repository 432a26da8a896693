// Double-double arithmetic (a value is hi + lo, about 106 bits): just enough to evaluate the
// Smirnov sum's terms, whose logarithms are differences of numbers near 1e7 that must come out
// right to 1e-16. Algorithms: Dekker's exact product and Knuth's exact sum.

export interface DD {
  readonly hi: number;
  readonly lo: number;
}

const SPLITTER = 134217729; // 2^27 + 1

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return { hi: s, lo: b - (s - a) };
}

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return { hi: s, lo: a - (s - bb) + (b - bb) };
}

/** The exact product of two doubles as a double-double. */
export function twoProd(a: number, b: number): DD {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return { hi: p, lo: ah * bh - p + ah * bl + al * bh + al * bl };
}

export const dd = (hi: number, lo = 0): DD => ({ hi, lo });

export function add(a: DD, b: DD): DD {
  const s = twoSum(a.hi, b.hi);
  const t = twoSum(a.lo, b.lo);
  const u = quickTwoSum(s.hi, s.lo + t.hi);
  return quickTwoSum(u.hi, u.lo + t.lo);
}

const neg = (a: DD): DD => ({ hi: -a.hi, lo: -a.lo });
export const sub = (a: DD, b: DD): DD => add(a, neg(b));

function mul(a: DD, b: DD): DD {
  const p = twoProd(a.hi, b.hi);
  return quickTwoSum(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi));
}

export function mulNum(a: DD, b: number): DD {
  const p = twoProd(a.hi, b);
  return quickTwoSum(p.hi, p.lo + a.lo * b);
}

export function div(a: DD, b: DD): DD {
  const q1 = a.hi / b.hi;
  let r = sub(a, mulNum(b, q1));
  const q2 = r.hi / b.hi;
  r = sub(r, mulNum(b, q2));
  const q3 = r.hi / b.hi;
  return add(quickTwoSum(q1, q2), dd(q3));
}

const LN2: DD = dd(0.6931471805599453, 2.3190468138462996e-17);
const INV_FACT = Array.from({ length: 14 }, (_, k) => k + 1).map((k) => {
  let f = dd(1);
  for (let i = 2; i <= k; i++) f = mulNum(f, i);
  return div(dd(1), f);
});

/** e^a for |a| < ~700: reduce by ln 2 and by 2^10, a short Taylor series, then square back. */
function exp(a: DD): DD {
  const k = Math.round(a.hi / LN2.hi);
  const r = mulNum(sub(a, mulNum(LN2, k)), 1 / 1024);
  // expm1(r) for |r| < 3.4e-4: terms beyond r^11/11! are below 1e-40.
  let term = r;
  let s = r;
  let power = r;
  for (let i = 1; i < 11; i++) {
    power = mul(power, r);
    term = mul(power, INV_FACT[i]!);
    s = add(s, term);
  }
  // (1 + s)^1024 - 1, kept as an expm1 so nothing is lost near 1.
  for (let i = 0; i < 10; i++) s = add(mulNum(s, 2), mul(s, s));
  const two = 2 ** k;
  return mulNum(add(s, dd(1)), two);
}

/** ln a for a > 0: one Newton step on e^x from the double logarithm doubles its precision. */
export function log(a: DD): DD {
  const x = dd(Math.log(a.hi));
  return add(x, sub(mul(a, exp(neg(x))), dd(1)));
}

const HALF_LOG_2PI: DD = dd(0.9189385332046728, -3.8782941580672414e-17);
// Stirling series coefficients B_2k / (2k (2k-1)), k = 1..12, as exact fractions.
const STIRLING: DD[] = (
  [
    [1, 12], [-1, 360], [1, 1260], [-1, 1680], [1, 1188], [-691, 360360], [1, 156], [-3617, 122400],
    [43867, 244188], [-174611, 125400], [77683, 5796], [-236364091, 1506960],
  ] as const
).map(([p, q]) => div(dd(p), dd(q)));
const STIRLING_MIN = 60;

/** ln Γ(z) for an integer z >= 1 (ln of (z-1)!), to double-double precision. */
export function lgammaInt(z: number): DD {
  let shift = dd(0);
  let w = z;
  // Below STIRLING_MIN the series is short of 106 bits: step up with ln Γ(w) = ln Γ(w+1) - ln w.
  for (; w < STIRLING_MIN; w++) shift = add(shift, log(dd(w)));
  const lw = log(dd(w));
  let s = add(sub(mulNum(lw, w - 0.5), dd(w)), HALF_LOG_2PI);
  const inv = div(dd(1), dd(w));
  const inv2 = mul(inv, inv);
  let p = inv;
  for (const c of STIRLING) {
    s = add(s, mul(c, p));
    p = mul(p, inv2);
  }
  return sub(s, shift);
}

export const toNumber = (a: DD): number => a.hi + a.lo;
