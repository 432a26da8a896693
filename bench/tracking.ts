import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TRACKING_STORES } from '../src/project/stores.js';
import type { Database, Queryable, SqlValue } from '../src/sql/database.js';
import { openMlflowDatabase } from '../src/sql/open.js';
import { FileStore } from '../src/tracking/file-store.js';
import type { TrackingStore } from '../src/tracking/store.js';

// 1. `runs list --filter ... --json` over 10,000 runs of the folder store through the real CLI in a
//    cold process (MLflow's folder store takes minutes at this size, mlflow#1902), written by FileStore.
// 2. Logging 10,000 metric points across 100 runs, one call per point as a training loop logs them,
//    on the folder store, SQLite and PostgreSQL. Target: SQLite at least the folder store's rate.
// 3. `runs list` with a filter and an order-by over 100,000 runs in SQLite and PostgreSQL: the search
//    in the store (target < 300 ms) and the whole command in a cold process. The runs are written in
//    bulk, in the rows SqlTrackingStore writes, since 100,000 runs through the API take long on a
//    server that syncs every commit. PostgreSQL: MLOPS_TEST_POSTGRES_URL, else the local server; a
//    database of its own, dropped after.

const RUNS = 10_000;
const FILTER = "metrics.f1_macro > 0.9 and params.max_depth = '10'";
const BIN = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'bin', 'mlops');

// With mlflow.runName, the six tags a tracked stage run carries.
const TAGS = { 'mlops.stage': 'train', 'mlflow.source.type': 'LOCAL', 'mlflow.source.name': 'mlops train', 'mlflow.user': 'bench', 'mlflow.source.git.commit': 'f'.repeat(40) };

export async function populate(root: string): Promise<void> {
  const store = new FileStore(join(root, 'mlruns'));
  const experimentId = await store.getOrCreateExperiment('Default');
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < RUNS; i = next++) {
      const { run_id } = await store.createRun({ experimentId, runName: `run-${i}`, userId: 'bench', tags: TAGS });
      await store.logParams(run_id, { max_depth: String([5, 10, 20, 40][i % 4]), n_estimators: String(100 + (i % 7) * 50), criterion: 'gini' });
      const f1 = (i * 7919) % 1000 / 1000;
      await store.logMetrics(run_id, [
        { key: 'f1_macro', value: f1, step: 0, timestamp: Date.now() },
        { key: 'accuracy', value: f1 * 0.98, step: 0, timestamp: Date.now() },
        { key: 'cv/fold_score', value: f1, step: 0, timestamp: Date.now() },
        { key: 'cv/fold_score', value: f1 * 0.99, step: 1, timestamp: Date.now() },
      ]);
      await store.setStatus(run_id, 'FINISHED', Date.now());
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

const ARGS = ['runs', 'list', '--filter', FILTER, '--json'];

function matched(root: string, args = ARGS, env: Record<string, string> = {}): number {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true', ...env }, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`runs list failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as unknown[]).length;
}

/** Wall time, and the CPU time (user + sys) bash reports, which the machine's other load does not inflate. */
function timeList(root: string, args = ARGS, env: Record<string, string> = {}): { wall: number; cpu: number } {
  const start = performance.now();
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%U %S"; time "$0" "$@" > /dev/null', process.execPath, BIN, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true', ...env } });
  const wall = performance.now() - start;
  if (r.status !== 0) throw new Error(`runs list failed: ${r.stderr}`);
  const [user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall, cpu: (user! + sys!) * 1000 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function folderStoreList(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'mlops-bench-tracking-'));
  try {
    const t0 = performance.now();
    await populate(root);
    console.log(`created ${RUNS} runs (3 params, 3 metrics with 4 values, 6 tags each) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const count = matched(root);
    const runs = Array.from({ length: 5 }, () => timeList(root));
    console.log(`mlops runs list --filter "${FILTER}" --json: ${count} runs matched`);
    console.log(`  cold process, warm page cache, median of 5: ${median(runs.map((r) => r.wall)).toFixed(0)} ms wall, ${median(runs.map((r) => r.cpu)).toFixed(0)} ms CPU (user+sys); target < 1000 ms`);
    console.log(`  load average during the run: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// ---- database stores

const POSTGRES_SERVER = process.env.MLOPS_TEST_POSTGRES_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';

/** A throwaway PostgreSQL database's URI and its drop; undefined when no server answers. */
async function postgresDatabase(): Promise<{ uri: string; drop(): Promise<void> } | undefined> {
  const { default: pg } = await import('pg');
  const admin = async (sql: string) => {
    const url = new URL(POSTGRES_SERVER);
    url.pathname = '/postgres';
    const client = new pg.Client({ connectionString: url.href, connectionTimeoutMillis: 3_000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const name = `mlops_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  try {
    await admin(`CREATE DATABASE ${name}`);
  } catch (error) {
    console.log(`  PostgreSQL skipped: no server answers at ${new URL(POSTGRES_SERVER).host} (${(error as Error).message})`);
    return undefined;
  }
  const url = new URL(POSTGRES_SERVER);
  url.pathname = `/${name}`;
  return { uri: url.href, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

interface StoreUnderTest {
  readonly name: string;
  readonly uri: string;
  readonly root: string;
  cleanup(): Promise<void>;
}

/** A fresh folder store, SQLite database and PostgreSQL database (when a server answers). */
async function storesUnderTest(): Promise<StoreUnderTest[]> {
  const made = (name: string, uri: (root: string) => string, drop?: () => Promise<void>): StoreUnderTest => {
    const root = mkdtempSync(join(tmpdir(), `mlops-bench-${name}-`));
    return { name, uri: uri(root), root, cleanup: async () => { await drop?.(); rmSync(root, { recursive: true, force: true }); } };
  };
  const stores = [made('file', (root) => pathToFileURL(join(root, 'mlruns')).href), made('sqlite', () => 'sqlite:///mlflow.db')];
  const pg = await postgresDatabase();
  if (pg) stores.push(made('postgresql', () => pg.uri, pg.drop));
  return stores;
}

const openStore = (s: StoreUnderTest): Promise<TrackingStore> => TRACKING_STORES.open(s.uri, s.root, { artifactRoot: join(s.root, 'mlartifacts') });

const LOG_RUNS = 100;
const POINTS = 10_000;

/** Points per second logging POINTS points, one logMetrics call each, round-robin over LOG_RUNS runs. */
async function loggingRate(s: StoreUnderTest): Promise<number> {
  const store = await openStore(s);
  try {
    const experimentId = await store.getOrCreateExperiment('logging');
    const runs: string[] = [];
    for (let i = 0; i < LOG_RUNS; i++) runs.push((await store.createRun({ experimentId, runName: `r${i}`, userId: 'bench' })).run_id);
    const start = performance.now();
    for (let p = 0; p < POINTS; p++) {
      const step = Math.floor(p / LOG_RUNS);
      await store.logMetrics(runs[p % LOG_RUNS]!, [{ key: 'loss', value: 1 / (step + 1), step, timestamp: Date.now() }]);
    }
    return POINTS / ((performance.now() - start) / 1000);
  } finally {
    await store.close?.();
  }
}

const SEARCH_RUNS = 100_000;
const ORDER = 'metrics.f1_macro DESC';
const BULK = 500;

/** `count` (a multiple of 10,000) finished runs in the rows SqlTrackingStore writes (see populate for their content). */
export async function populateSql(db: Database, experimentId: number, artifactRoot: string, count = SEARCH_RUNS): Promise<void> {
  const insert = async (tx: Queryable, table: string, columns: string, rows: SqlValue[][]) => {
    for (let i = 0; i < rows.length; i += BULK) {
      const part = rows.slice(i, i + BULK);
      const one = `(${columns.split(',').map(() => '?').join(', ')})`;
      await tx.run(`INSERT INTO ${table} (${columns}) VALUES ${part.map(() => one).join(', ')}`, part.flat());
    }
  };
  for (let first = 0; first < count; first += 10_000) {
    const runs: SqlValue[][] = [], params: SqlValue[][] = [], tags: SqlValue[][] = [], metrics: SqlValue[][] = [], latest: SqlValue[][] = [];
    const now = Date.now();
    for (let i = first; i < first + 10_000; i++) {
      const id = randomUUID().replace(/-/g, '');
      const f1 = ((i * 7919) % 1000) / 1000;
      runs.push([id, `run-${i}`, 'UNKNOWN', '', '', 'bench', 'FINISHED', now + i, now + i + 1, '', 'active', `${pathToFileURL(artifactRoot).href}/${experimentId}/${id}/artifacts`, experimentId]);
      params.push(['max_depth', String([5, 10, 20, 40][i % 4]), id], ['n_estimators', String(100 + (i % 7) * 50), id], ['criterion', 'gini', id]);
      for (const [key, value] of Object.entries({ ...TAGS, 'mlflow.runName': `run-${i}` })) tags.push([key, value, id]);
      const points: [string, number, number][] = [['f1_macro', f1, 0], ['accuracy', f1 * 0.98, 0], ['cv/fold_score', f1, 0], ['cv/fold_score', f1 * 0.99, 1]];
      for (const [key, value, step] of points) metrics.push([key, value, now, step, false, id]);
      latest.push(['f1_macro', f1, now, 0, false, id], ['accuracy', f1 * 0.98, now, 0, false, id], ['cv/fold_score', f1 * 0.99, now, 1, false, id]);
    }
    await db.transaction(async (tx) => {
      await insert(tx, 'runs', 'run_uuid,name,source_type,source_name,entry_point_name,user_id,status,start_time,end_time,source_version,lifecycle_stage,artifact_uri,experiment_id', runs);
      await insert(tx, 'params', 'key,value,run_uuid', params);
      await insert(tx, 'tags', 'key,value,run_uuid', tags);
      await insert(tx, 'metrics', 'key,value,timestamp,step,is_nan,run_uuid', metrics);
      await insert(tx, 'latest_metrics', 'key,value,timestamp,step,is_nan,run_uuid', latest);
    });
  }
  if (db.dialect === 'postgresql') await db.run('ANALYZE');
}

async function databaseSearch(s: StoreUnderTest): Promise<void> {
  const store = await openStore(s);
  const experimentId = await store.getOrCreateExperiment('search');
  await store.close?.();
  const db = await openMlflowDatabase(s.uri, { root: s.root });
  const t0 = performance.now();
  try {
    await populateSql(db, Number(experimentId), join(s.root, 'mlartifacts'));
  } finally {
    await db.close();
  }
  console.log(`  ${s.name}: wrote ${SEARCH_RUNS} runs (3 params, 3 metrics with 4 values, 6 tags each) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const searchStore = await openStore(s);
  try {
    const query = { experimentIds: [experimentId], filter: FILTER, orderBy: [ORDER], maxResults: 1001 };
    const times: number[] = [];
    const cpu: number[] = [];
    let found = 0;
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      const used = process.cpuUsage();
      found = (await searchStore.searchRuns(query)).runs.length;
      const { user, system } = process.cpuUsage(used);
      times.push(performance.now() - start);
      cpu.push((user + system) / 1000);
    }
    // This process's CPU: all of SQLite's work; for PostgreSQL only the client's (the server's is in the wall time).
    console.log(`    searchRuns (filter, order-by, first 1000 of the matches, with their params, metrics and tags): ${found} runs, median of 5 ${median(times).toFixed(0)} ms wall, ${median(cpu).toFixed(0)} ms CPU in this process; target < 300 ms (load average ${loadavg()[0]!.toFixed(1)})`);
  } finally {
    await searchStore.close?.();
  }
  const args = ['runs', 'list', '--experiment', 'search', '--filter', FILTER, '--order-by', ORDER, '--json'];
  const env = { MLOPS_TRACKING_URI: s.uri };
  const count = matched(s.root, args, env);
  const runs = Array.from({ length: 5 }, () => timeList(s.root, args, env));
  console.log(`    mlops runs list --filter "${FILTER}" --order-by "${ORDER}" --json: ${count} runs (the first 1000), cold process, median of 5: ${median(runs.map((r) => r.wall)).toFixed(0)} ms wall, ${median(runs.map((r) => r.cpu)).toFixed(0)} ms CPU`);
}

export async function run(): Promise<void> {
  await folderStoreList();
  const stores = await storesUnderTest();
  try {
    console.log(`logging ${POINTS} metric points across ${LOG_RUNS} runs, one logMetrics call per point:`);
    const rates: Record<string, number> = {};
    for (const s of stores) {
      rates[s.name] = await loggingRate(s);
      console.log(`  ${s.name}: ${rates[s.name]!.toFixed(0)} points/s (${((POINTS / rates[s.name]!) ).toFixed(1)} s)`);
    }
    console.log(`  SQLite / folder store: ${(rates.sqlite! / rates.file!).toFixed(2)}x; target >= 1`);
    console.log(`runs list with a filter and an order-by over ${SEARCH_RUNS} runs:`);
    for (const s of stores.filter((x) => x.name !== 'file')) await databaseSearch(s);
    console.log(`  load average during the run: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
  } finally {
    for (const s of stores) await s.cleanup();
  }
}
