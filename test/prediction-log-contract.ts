import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchedPredictionLog } from '../src/predictions/batched.js';
import type { LabelRecord } from '../src/predictions/labels.js';
import type { PredictionBackend } from '../src/predictions/open.js';
import type { PredictionQuery, PredictionReader } from '../src/predictions/reader.js';
import type { PredictionRecord } from '../src/predictions/record.js';

// What every prediction log backend (SQLite, PostgreSQL) must do, written once against the writer
// (a batched log over the backend's sink) and the reader monitoring and `mlops predictions` use.

type Context = import('node:test').TestContext;
export type BackendFactory = (t: Context) => PredictionBackend | Promise<PredictionBackend>;

const T0 = Date.parse('2026-01-10T00:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

export function record(i: number, extra: Partial<PredictionRecord> = {}): PredictionRecord {
  return {
    request_id: `req-${i}`,
    time: at(i),
    model: { name: 'clf', version: 1 + (i % 2) },
    input: { Age: 20 + i, Gender: i % 2 ? 'Male' : 'Female', CALC: null },
    prediction: i % 3 ? 'Normal_Weight' : 'Obesity_Type_I',
    probabilities: { Normal_Weight: 0.25, Obesity_Type_I: 0.75 },
    latency_ms: 0.5 + i,
    ...extra,
  };
}

async function read(reader: PredictionReader, query: PredictionQuery = {}): Promise<PredictionRecord[]> {
  const rows: PredictionRecord[] = [];
  for await (const r of reader.rows(query)) rows.push(r);
  return rows;
}

async function writeAll(backend: PredictionBackend, records: readonly PredictionRecord[], options = {}): Promise<void> {
  const log = new BatchedPredictionLog(await backend.sink(), (e) => assert.fail(e), options);
  log.append(records);
  await log.close();
}

export function predictionLogContract(label: string, factory: BackendFactory): void {
  test(`${label}: a log never written reads as empty`, async (t) => {
    const reader = await (await factory(t)).reader();
    assert.deepEqual(await read(reader), []);
    assert.equal(await reader.count({}), 0);
    await reader.close();
  });

  test(`${label}: rows come back as written (raw inputs, nulls, classes, numbers), in time order`, async (t) => {
    const backend = await factory(t);
    const records = [5, 1, 3, 2, 4, 0].map((i) => record(i));
    const regression = record(6, { model: { name: 'reg' }, prediction: 23.75, probabilities: undefined });
    await writeAll(backend, [...records, regression]);
    const reader = await backend.reader();
    t.after(() => reader.close());
    const { probabilities: _, ...regressionRead } = regression;
    assert.deepEqual(await read(reader), [...[0, 1, 2, 3, 4, 5].map((i) => record(i)), regressionRead]);
    assert.equal(await reader.count({}), 7);
    // What a drift check reads: the same rows' times and raw inputs alone, in the same order, under the same query.
    const inputs = async (query: PredictionQuery) => {
      const out = [];
      for await (const r of reader.inputs(query)) out.push(r);
      return out;
    };
    const expected = [...[0, 1, 2, 3, 4, 5].map((i) => record(i)), regressionRead].map(({ time, input }) => ({ time, input }));
    assert.deepEqual(await inputs({}), expected);
    assert.deepEqual(await inputs({ model: 'clf', versions: [2], from: new Date(at(1)), to: new Date(at(5)) }), expected.filter((_, i) => i === 1 || i === 3));
  });

  test(`${label}: queries by model, versions, [from, to), limit and the newest rows`, async (t) => {
    const backend = await factory(t);
    await writeAll(backend, [...Array(10).keys()].map((i) => record(i, i >= 8 ? { model: { name: 'other', version: 1 } } : {})));
    const reader = await backend.reader();
    t.after(() => reader.close());
    const ids = async (q: PredictionQuery) => (await read(reader, q)).map((r) => Number(r.request_id.slice(4)));
    assert.deepEqual(await ids({ model: 'clf' }), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(await ids({ model: 'clf', versions: [2] }), [1, 3, 5, 7]);
    assert.deepEqual(await ids({ model: 'clf', versions: [] }), []);
    assert.deepEqual(await ids({ from: new Date(at(3)), to: new Date(at(6)) }), [3, 4, 5]);
    assert.deepEqual(await ids({ model: 'clf', limit: 3 }), [0, 1, 2]);
    assert.deepEqual(await ids({ model: 'clf', limit: 3, newest: true }), [5, 6, 7]);
    assert.equal(await reader.count({ model: 'other' }), 2);
    assert.equal(await reader.count({ from: new Date(at(3)), to: new Date(at(6)), versions: [1] }), 1);
  });

  test(`${label}: the writer appends batch after batch; close writes what is pending`, async (t) => {
    const backend = await factory(t);
    const log = new BatchedPredictionLog(await backend.sink(), (e) => assert.fail(e), { intervalMs: 5 });
    for (let i = 0; i < 50; i++) {
      log.append([record(i)]);
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    log.append([record(50), record(51)]);
    assert.ok(log.backlog > 0, 'the last rows are still pending');
    await log.close();
    const reader = await backend.reader();
    t.after(() => reader.close());
    assert.equal(await reader.count({}), 52);
  });

  test(`${label}: a log bigger than a read page streams whole, in order, with equal times kept in write order`, async (t) => {
    const backend = await factory(t);
    // 21,000 rows over 70 distinct times: pages (10,000 rows) end inside runs of equal times.
    await writeAll(backend, [...Array(21_000).keys()].map((i) => record(i, { time: at(Math.floor(i / 300)) })));
    const reader = await backend.reader();
    t.after(() => reader.close());
    const ids = (await read(reader)).map((r) => r.request_id);
    assert.deepEqual(ids, [...Array(21_000).keys()].map((i) => `req-${i}`));
    assert.equal((await read(reader, { limit: 12_500 })).length, 12_500);
    assert.equal((await read(reader, { from: new Date(at(20)) })).length, 15_000);
  });

  test(`${label}: retention deletes rows older than the setting and keeps the rest`, async (t) => {
    const backend = await factory(t);
    const now = Date.now();
    const aged = (days: number, i: number) => record(i, { time: new Date(now - days * 86_400_000).toISOString() });
    await writeAll(backend, [aged(40, 1), aged(31, 2), aged(29, 3), aged(0, 4)]);
    await writeAll(backend, [aged(0, 5)], { retentionMs: 30 * 86_400_000 });
    const reader = await backend.reader();
    t.after(() => reader.close());
    assert.deepEqual((await read(reader)).map((r) => r.request_id), ['req-3', 'req-4', 'req-5']);
  });

  test(`${label}: labels are kept beside the log: an upsert by id column and id, read back by model and period`, async (t) => {
    const backend = await factory(t);
    const label = (id: string, y: string, extra: Partial<LabelRecord> = {}): LabelRecord => ({ id_column: 'request_id', id, label: y, model: 'clf', time: at(Number(id.split('-')[1])), ...extra });
    const writer = await backend.labelWriter();
    t.after(() => writer.close());
    assert.equal(await writer.putLabels([label('req-1', 'a'), label('req-2', 'b'), label('req-3', 'c', { model: 'other' }), label('order-2', 'x', { id_column: 'order_id' })]), 0);
    // Loading again replaces the label of the same (id column, id) and adds the new ones, in one go.
    assert.equal(await writer.putLabels([label('req-2', 'B'), label('req-4', 'd'), label('req-1', 'a')]), 2);
    const reader = await backend.reader();
    t.after(() => reader.close());
    const period = { idColumn: 'request_id', model: 'clf', from: new Date(at(0)), to: new Date(at(4)) };
    assert.deepEqual(await reader.labels(period), [label('req-1', 'a'), label('req-2', 'B')]);
    assert.deepEqual((await reader.labels({ ...period, to: new Date(at(10)) })).map((l) => l.id), ['req-1', 'req-2', 'req-4']);
    assert.deepEqual(await reader.labels({ ...period, idColumn: 'order_id' }), [label('order-2', 'x', { id_column: 'order_id' })]);
    // A batch that breaks a constraint writes none of its labels.
    await assert.rejects(writer.putLabels([label('req-5', 'e'), { ...label('req-6', 'f'), label: null as unknown as string }]));
    assert.deepEqual((await reader.labels({ ...period, to: new Date(at(10)) })).map((l) => l.id), ['req-1', 'req-2', 'req-4']);
  });
}
