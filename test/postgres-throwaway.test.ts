import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { TRACKING_STORES } from '../src/project/stores.js';
import { tempDir } from './helpers.js';
import { startPostgresServer } from './postgres.js';

// The suite's own PostgreSQL, which it starts when no server answers and MLOPS_TEST_POSTGRES_URL is
// unset: started here explicitly (whatever else answers on this machine), used by the tracking store,
// and gone afterwards, process and folder.

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The postmaster's process id, from its data directory. */
const postmasterPid = (dir: string) => Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);

test('a throwaway PostgreSQL server: a tracking store round trip on it, then the server and its folder are gone', async (t) => {
  let server;
  try {
    server = await startPostgresServer();
  } catch (error) {
    if (/no PostgreSQL server binaries/.test((error as Error).message)) return t.skip((error as Error).message);
    throw error;
  }
  const pid = postmasterPid(server.dir);
  try {
    assert.match(server.url, /^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    assert.notEqual(new URL(server.url).port, '5432', 'a port of its own, not the usual server');
    const root = tempDir(t);
    // The server is thrown away whole: its own `postgres` database serves.
    const store = await TRACKING_STORES.open(server.url, root, { artifactRoot: join(root, 'mlartifacts') });
    try {
      const experimentId = await store.getOrCreateExperiment('throwaway');
      const { run_id } = await store.createRun({ experimentId, runName: 'r', userId: 'tester' });
      await store.logParams(run_id, { depth: '3' });
      await store.logMetrics(run_id, [{ key: 'f1', value: 0.5, step: 0, timestamp: 1 }, { key: 'f1', value: 0.75, step: 1, timestamp: 2 }]);
      await store.setStatus(run_id, 'FINISHED', 3);
      const { runs } = await store.searchRuns({ experimentIds: [experimentId], filter: 'metrics.f1 > 0.7' });
      assert.deepEqual(runs.map((r) => [r.info.run_id, r.info.status, r.params, r.metrics]), [[run_id, 'FINISHED', { depth: '3' }, { f1: 0.75 }]]);
      assert.deepEqual((await store.getMetricHistory(run_id, 'f1')).map((m) => m.value), [0.5, 0.75]);
    } finally {
      await store.close?.();
    }
  } finally {
    server.stop();
  }
  assert.equal(alive(pid), false, 'the server process is gone');
  assert.equal(existsSync(server.dir), false, 'its folder is removed');
});

test('a throwaway PostgreSQL server is stopped and removed when the test process exits without stopping it', (t) => {
  const script = `
    const { startPostgresServer } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'postgres.js')).href)});
    const server = await startPostgresServer();
    const { readFileSync } = await import('node:fs');
    console.log(JSON.stringify({ dir: server.dir, pid: Number(readFileSync(server.dir + '/data/postmaster.pid', 'utf8').split('\\n')[0]) }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  if (/no PostgreSQL server binaries/.test(r.stderr)) return t.skip(r.stderr.trim());
  assert.equal(r.status, 0, r.stderr);
  const { dir, pid } = JSON.parse(r.stdout) as { dir: string; pid: number };
  assert.ok(pid > 0);
  assert.equal(alive(pid), false, 'the server process is gone');
  assert.equal(existsSync(dir), false, 'its folder is removed');
});
