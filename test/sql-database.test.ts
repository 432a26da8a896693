import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext as T } from 'node:test';
import { MlopsError, type ErrorKind } from '../src/core/errors.js';
import { numberedPlaceholders, type Database } from '../src/sql/database.js';
import { MLFLOW_SCHEMA_REVISION } from '../src/sql/mlflow-schema.js';
import { openDatabase, openMlflowDatabase } from '../src/sql/open.js';
import { parseDatabaseUri } from '../src/sql/uri.js';
import { tempDir } from './helpers.js';
import { postgresDatabase } from './postgres.js';

const ofKind = (kind: ErrorKind, message?: RegExp) => (error: unknown) =>
  error instanceof MlopsError && error.kind === kind && (!message || message.test(error.message)) && !error.message.includes('\n');

test('placeholders: ? becomes $n outside quoted strings and identifiers', () => {
  assert.equal(numberedPlaceholders(`SELECT * FROM t WHERE a = ? AND b = '?' AND "c?" = ? AND d IN (?, ?)`), `SELECT * FROM t WHERE a = $1 AND b = '?' AND "c?" = $2 AND d IN ($3, $4)`);
});

test('URIs: SQLite paths relative to the root or absolute; PostgreSQL parts, the password never shown', () => {
  assert.deepEqual(parseDatabaseUri('sqlite:///mlflow.db', '/proj'), { dialect: 'sqlite', path: '/proj/mlflow.db', shown: 'sqlite:///mlflow.db' });
  assert.equal((parseDatabaseUri('sqlite:////data/m.db', '/proj') as { path: string }).path, '/data/m.db');
  assert.equal((parseDatabaseUri('sqlite://', '/proj') as { path: string }).path, ':memory:');
  const pg = parseDatabaseUri('postgresql+psycopg2://ml:s3cret@db.example:6543/mlflow', '/proj');
  assert.equal(pg.dialect, 'postgresql');
  assert.ok(pg.dialect === 'postgresql' && pg.host === 'db.example' && pg.port === 6543 && pg.database === 'mlflow' && pg.user === 'ml');
  assert.ok(!pg.shown.includes('s3cret'), pg.shown);
  assert.throws(() => parseDatabaseUri('sqlite://mlflow.db', '/proj'), ofKind('invalid', /three slashes/));
  assert.throws(() => parseDatabaseUri('postgresql://ml:s3cret@host:5432', '/proj'), (e: Error) => ofKind('invalid', /name the database/)(e) && !e.message.includes('s3cret'));
});

interface Dialect {
  readonly name: string;
  /** A fresh, empty database's URI (undefined: skipped). */
  uri(t: T): Promise<string | undefined>;
}

const DIALECTS: readonly Dialect[] = [
  { name: 'SQLite', uri: async (t) => `sqlite:///${join(tempDir(t), 'sub', 'mlflow.db')}` },
  { name: 'PostgreSQL', uri: (t) => postgresDatabase(t, 'sql_layer') },
];

async function open(t: T, uri: string, notice?: (line: string) => void): Promise<Database> {
  const db = await openMlflowDatabase(uri, { root: '/nonexistent-root', notice, postgres: { connectAttempts: 2 } });
  t.after(() => db.close());
  return db;
}

for (const dialect of DIALECTS) {
  const sqlTest = (name: string, fn: (t: T, uri: string) => Promise<void>) =>
    test(`${dialect.name}: ${name}`, async (t) => {
      const uri = await dialect.uri(t);
      if (uri) await fn(t, uri);
    });

  sqlTest('an empty database gets MLflow 2.22 schema at its revision; reopening keeps it', async (t, uri) => {
    const db = await open(t, uri);
    assert.deepEqual(await db.query('SELECT version_num FROM alembic_version'), [{ version_num: MLFLOW_SCHEMA_REVISION }]);
    await db.run('INSERT INTO experiments (name, lifecycle_stage, creation_time) VALUES (?, ?, ?)', ['e', 'active', 1_700_000_000_123]);
    const again = await open(t, uri);
    const rows = await again.query<{ experiment_id: number; creation_time: number }>('SELECT experiment_id, creation_time FROM experiments');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.creation_time, 1_700_000_000_123, 'BIGINT comes back as a number');
    assert.equal(typeof rows[0]!.experiment_id, 'number');
  });

  sqlTest('statements with placeholders and booleans; a transaction commits or rolls back whole', async (t, uri) => {
    const db = await open(t, uri);
    await db.run('INSERT INTO experiments (experiment_id, name, lifecycle_stage) VALUES (?, ?, ?)', [0, 'Default', 'active']);
    await db.run("INSERT INTO runs (run_uuid, experiment_id, status, lifecycle_stage) VALUES (?, ?, 'RUNNING', 'active')", ['a'.repeat(32), 0]);
    await db.transaction(async (tx) => {
      await tx.run('INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)', ['m', 0, 1, 0, true, 'a'.repeat(32)]);
      await tx.run('INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)', ['m', 1.5, 2, 1, false, 'a'.repeat(32)]);
    });
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)', ['m', 9, 3, 2, false, 'a'.repeat(32)]);
        throw new Error('stop halfway');
      }),
      /stop halfway/,
    );
    const rows = await db.query<{ value: number; is_nan: unknown }>('SELECT value, is_nan FROM metrics WHERE run_uuid = ? ORDER BY step', ['a'.repeat(32)]);
    assert.deepEqual(rows.map((r) => [r.value, Boolean(r.is_nan)]), [[0, true], [1.5, false]], 'the rolled back row is gone');
    const nan = await db.query('SELECT key FROM metrics WHERE is_nan = ?', [true]);
    assert.equal(nan.length, 1);
  });

  sqlTest('concurrent transactions from several connections all land', async (t, uri) => {
    const first = await open(t, uri);
    await first.run('INSERT INTO experiments (experiment_id, name, lifecycle_stage) VALUES (?, ?, ?)', [0, 'Default', 'active']);
    const handles = [first, await open(t, uri), await open(t, uri)];
    await Promise.all(
      handles.flatMap((db, h) =>
        Array.from({ length: 20 }, (_, i) =>
          db.transaction(async (tx) => {
            const id = `${h}${String(i).padStart(31, '0')}`;
            await tx.run("INSERT INTO runs (run_uuid, experiment_id, status, lifecycle_stage) VALUES (?, 0, 'RUNNING', 'active')", [id]);
            await tx.run('INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)', ['p', String(i), id]);
          }),
        ),
      ),
    );
    assert.deepEqual(await first.query('SELECT COUNT(*) AS n FROM params'), [{ n: 60 }]);
  });

  sqlTest('an older MLflow revision is refused with the upgrade command; a newer one is used, said once', async (t, uri) => {
    const db = await open(t, uri);
    await db.run('UPDATE alembic_version SET version_num = ?', ['0584bdc529eb']);
    await assert.rejects(open(t, uri), ofKind('invalid', /revision 0584bdc529eb is older than MLflow 2\.22's \(6953534de441\); upgrade it first: mlflow db upgrade/));
    await db.run('UPDATE alembic_version SET version_num = ?', ['cbc13b556ace']);
    const notices: string[] = [];
    await open(t, uri, (line) => notices.push(line));
    await open(t, uri, (line) => notices.push(line));
    assert.equal(notices.length, 1, notices.join('\n'));
    assert.match(notices[0]!, /revision cbc13b556ace, newer than MLflow 2\.22's/);
  });

  sqlTest("a database with someone else's tables is refused in one line, left untouched", async (t, uri) => {
    const raw = await openDatabase(uri, { root: '/nonexistent-root' });
    t.after(() => raw.close());
    await raw.run('CREATE TABLE orders (id INTEGER PRIMARY KEY)');
    await assert.rejects(open(t, uri), ofKind('invalid', /not an MLflow database \(it has tables orders but no MLflow schema revision/));
    const tables = raw.dialect === 'sqlite' ? await raw.query("SELECT name FROM sqlite_master WHERE type = 'table'") : await raw.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    assert.equal(tables.length, 1);
  });
}

test('PostgreSQL: an unreachable server fails after bounded retries with one line naming host and port, no password', async () => {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
  const started = Date.now();
  await assert.rejects(
    openDatabase(`postgresql://ml:hunter2@127.0.0.1:${port}/mlflow`, { root: '/', postgres: { connectAttempts: 3 } }),
    (e: Error) => ofKind('failed', new RegExp(`cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port} after 3 attempts`))(e) && !e.message.includes('hunter2'),
  );
  assert.ok(Date.now() - started < 10_000);
});

test('PostgreSQL: a missing database and an unknown user are one line each', async (t) => {
  const uri = await postgresDatabase(t, 'sql_errors');
  if (!uri) return;
  const url = new URL(uri);
  url.pathname = '/no_such_database_mlops';
  await assert.rejects(openDatabase(url.href, { root: '/' }), ofKind('invalid', /database 'no_such_database_mlops' does not exist/));
  const user = new URL(uri);
  user.username = 'no_such_user_mlops';
  user.password = 'pw';
  await assert.rejects(openDatabase(user.href, { root: '/' }), (e: Error) => ofKind('invalid', /authentication failed for user 'no_such_user_mlops'/)(e) && !e.message.includes(':pw'));
});

test('SQLite: pages memory-mapped by default, not when the opener says so (the prediction log: resident memory would show the file)', async (t) => {
  const root = tempDir(t);
  const size = async (db: Database) => {
    try {
      return Number(Object.values((await db.query('PRAGMA mmap_size'))[0]!)[0]);
    } finally {
      await db.close();
    }
  };
  assert.equal(await size(await openDatabase('sqlite:///mapped.db', { root })), 2 ** 30);
  assert.equal(await size(await openDatabase('sqlite:///streamed.db', { root, sqlite: { mapped: false } })), 0);
});
