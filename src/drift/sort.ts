// Ascending sort of doubles by LSD radix on their bit patterns, 4 passes of 16 bits: about ten times
// faster than Float64Array.prototype.sort on a million values, which dominates a large KS test.
// Keys: flip every bit of negatives and only the sign bit of the rest, so unsigned order = numeric
// order (-0 lands just before +0, which compare equal anyway). NaN must not be present.

const RADIX_MIN = 2048; // below this the built-in sort is as fast

export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < RADIX_MIN) return values.sort();
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2); // little-endian: [lo, hi]
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + 1]!;
    const mask = h >>> 31 ? 0xffffffff : 0x80000000;
    hi[i] = (h ^ mask) >>> 0;
    lo[i] = (words[2 * i]! ^ (mask === 0x80000000 ? 0 : 0xffffffff)) >>> 0;
  }
  let lo2 = new Uint32Array(n);
  let hi2 = new Uint32Array(n);
  const counts = new Uint32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const source = pass < 2 ? lo : hi;
    const shift = pass % 2 ? 16 : 0;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(source[i]! >>> shift) & 0xffff]!++;
    let total = 0;
    for (let b = 0; b < 65536; b++) {
      const c = counts[b]!;
      counts[b] = total;
      total += c;
    }
    for (let i = 0; i < n; i++) {
      const at = counts[(source[i]! >>> shift) & 0xffff]!++;
      lo2[at] = lo[i]!;
      hi2[at] = hi[i]!;
    }
    [lo, lo2] = [lo2, lo];
    [hi, hi2] = [hi2, hi];
  }
  for (let i = 0; i < n; i++) {
    const h = hi[i]!;
    const negative = !(h >>> 31);
    words[2 * i + 1] = (negative ? ~h : h ^ 0x80000000) >>> 0;
    words[2 * i] = (negative ? ~lo[i]! : lo[i]!) >>> 0;
  }
  return values;
}
