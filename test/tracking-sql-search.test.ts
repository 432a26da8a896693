import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { TRACKING_STORES } from '../src/project/stores.js';
import type { SqlValue } from '../src/sql/database.js';
import { openDatabase } from '../src/sql/open.js';
import { searchRunsSql } from '../src/tracking/sql-search.js';
import type { SearchRunsQuery } from '../src/tracking/store.js';
import { tempDir } from './helpers.js';

// SQLite is told to read a key's table whole (`+k.key`) or through its (key, run_uuid) index by
// SqlTrackingStore.searchRuns' count of the key's rows: the two plans must find the same runs in the
// same order, and each must be the plan it says.

const FILTERS = [
  "params.p0 = '3'",
  "params.p7 LIKE 'v%' and metrics.m > 0.2",
  "metrics.m != 0.5 or tags.team = 'b'",
  "params.rare = 'yes'",
  "tags.team ILIKE 'A' and params.p0 != '1'",
  'metrics.m <= 0.7',
];

test('SQL search: scanning a table and probing its index find the same runs; the store picks per key', async (t) => {
  const root = tempDir(t);
  const store = await TRACKING_STORES.open('sqlite:///search.db', root, { artifactRoot: join(root, 'mlartifacts') });
  t.after(() => store.close?.());
  const experimentId = await store.getOrCreateExperiment('search');
  for (let i = 0; i < 30; i++) {
    const { run_id } = await store.createRun({ experimentId, runName: `r${i}`, userId: 'u', startTime: 1_000 + (i % 7), tags: { team: i % 3 ? 'a' : 'b' } });
    // 20 params a run: one param key is a twentieth of the params table, below the share that scans.
    const params: Record<string, string> = Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`p${k}`, `${k === 0 ? i % 5 : `v${i % 4}`}`]));
    if (i % 10 === 0) params.rare = 'yes';
    await store.logParams(run_id, params);
    await store.logMetrics(run_id, [{ key: 'm', value: i % 6 === 0 ? NaN : (i % 10) / 10, step: 0, timestamp: 1 }]);
  }
  const db = await openDatabase('sqlite:///search.db', { root });
  t.after(() => db.close());
  for (const filter of FILTERS) {
    const query: SearchRunsQuery = { experimentIds: [experimentId], filter, orderBy: ['metrics.m DESC', 'params.p0'], maxResults: 20 };
    const ids = async (scan: boolean) => {
      const { sql, params } = searchRunsSql(query, 'sqlite', () => scan);
      const plan = (await db.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params as SqlValue[])).map((r) => r.detail).join('\n');
      assert.ok(scan ? /SCAN k\b/.test(plan) && !/SEARCH k USING/.test(plan) : !/SCAN k\b/.test(plan), `${filter} (${scan ? 'scan' : 'index'}):\n${plan}`);
      return (await db.query<{ run_uuid: string }>(sql, params as SqlValue[])).map((r) => r.run_uuid);
    };
    const scanned = await ids(true);
    assert.deepEqual(await ids(false), scanned, filter);
    assert.deepEqual((await store.searchRuns(query)).runs.map((r) => r.info.run_id), scanned, `${filter}: the store's choice`);
    assert.ok(scanned.length > 0, `${filter} matches some runs`);
  }
});
