import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeOrderedId } from '../src/serve/request-id.js';

// Request ids are version 7 UUIDs: the prediction log's request_id index takes them at its end.

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('a request id is a version 7 UUID whose first 48 bits are the Unix milliseconds', () => {
  const now = Date.UTC(2026, 10, 30, 12, 0, 0, 123);
  const id = timeOrderedId(now);
  assert.match(id, V7);
  assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), now);
  assert.match(timeOrderedId(0), /^00000000-0000-7/);
  assert.match(timeOrderedId(2 ** 48 - 1), /^ffffffff-ffff-7/);
});

test('ids sort in time order, and thousands in one millisecond are all different', () => {
  const ids = [1, 2, 1000, 2 ** 32, 2 ** 32 + 1, Date.now()].map((ms) => timeOrderedId(ms));
  assert.deepEqual([...ids].sort(), ids);
  const same = Array.from({ length: 5000 }, () => timeOrderedId(1_800_000_000_000));
  assert.equal(new Set(same).size, same.length);
  for (const id of same) assert.match(id, V7);
});
