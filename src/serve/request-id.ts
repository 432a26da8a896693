import { randomFillSync } from 'node:crypto';

// Request ids are time-ordered UUIDs (version 7, RFC 9562: 48 bits of Unix milliseconds, then 74
// random bits). The prediction log indexes every row by its request id: random (version 4) ids land
// all over that index, so each batch dirtied hundreds of its pages and the log's writer thread spent
// 30-40 us of CPU per row once the log held 100,000 rows (more as it grows); ids that increase with
// time are appended at the index's end, 7 us per row at any size. The random bits come from a pool
// refilled a few KiB at a time, as randomUUID's do.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Random bytes per id: 12 bits of rand_a and 62 of rand_b, each byte used whole then masked. */
const RANDOM_BYTES = 10;
const POOL_IDS = 512;
const pool = Buffer.alloc(RANDOM_BYTES * POOL_IDS);
let used = POOL_IDS;

/** A new version 7 UUID, e.g. `019ad2c4-5e3a-7b1c-9d2e-3f4a5b6c7d8e`: later ids sort after earlier ones (to the millisecond). */
export function timeOrderedId(now: number = Date.now()): string {
  if (used === POOL_IDS) {
    randomFillSync(pool);
    used = 0;
  }
  const r = used++ * RANDOM_BYTES;
  // 48-bit milliseconds as 12 hex digits: the high 16 bits, then the low 32.
  const high = Math.floor(now / 0x1_0000_0000);
  const low = now >>> 0;
  const ms = (high.toString(16).padStart(4, '0') + low.toString(16).padStart(8, '0')).slice(-12);
  const b = (i: number) => HEX[pool[r + i]!]!;
  return (
    `${ms.slice(0, 8)}-${ms.slice(8)}-` +
    `${HEX[0x70 | (pool[r]! & 0x0f)]}${b(1)}-` + // version 7, then rand_a
    `${HEX[0x80 | (pool[r + 2]! & 0x3f)]}${b(3)}-` + // variant 10, then rand_b
    `${b(4)}${b(5)}${b(6)}${b(7)}${b(8)}${b(9)}`
  );
}
