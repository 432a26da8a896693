import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, FailureError } from '../core/errors.js';
import { displayPath } from '../core/display.js';
import { backoff, type Database, type Queryable, type Row, type SqlValue } from './database.js';
import type { SqliteLocation } from './uri.js';

// SQLite through better-sqlite3 (synchronous, loaded on first use). WAL mode lets readers work while
// one process writes; writers take the lock up front (BEGIN IMMEDIATE), wait for it (busy timeout),
// and a transaction that still finds the database busy is retried with a growing, jittered pause.

type BetterSqlite = import('better-sqlite3').Database;

export interface SqliteOptions {
  /** How long one statement waits for another process's lock (ms). */
  readonly busyTimeoutMs?: number;
  /** How many times a busy transaction is tried in all. */
  readonly attempts?: number;
  /**
   * Read pages through a memory map (default true). The mapped pages count in the process's resident
   * memory, so a database read from end to end (a prediction log of gigabytes) would show as that much.
   */
  readonly mapped?: boolean;
}

const MMAP_BYTES = 1 << 30;
const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED']);
const isBusy = (error: unknown) => BUSY.has((error as { code?: string }).code ?? '');

export async function openSqlite(location: SqliteLocation, uri: string, options: SqliteOptions = {}): Promise<Database> {
  const { default: Driver } = await import('better-sqlite3');
  const { busyTimeoutMs = 10_000, attempts = 20, mapped = true } = options;
  const memory = location.path === ':memory:';
  let db: BetterSqlite;
  try {
    if (!memory) mkdirSync(dirname(location.path), { recursive: true });
    db = new Driver(location.path, { timeout: busyTimeoutMs });
    await retryBusy(attempts, () => {
      if (!memory) db.pragma('journal_mode = WAL');
      // NORMAL is durable in WAL mode up to a power cut, and spares an fsync per commit.
      db.pragma('synchronous = NORMAL');
      // Pages read from the mapped file, not copied in by a read call each: a search over 100,000
      // runs reads much of the database (a fifth less CPU). Address space only; the OS's cache holds it.
      if (mapped) db.pragma(`mmap_size = ${MMAP_BYTES}`);
    });
  } catch (error) {
    throw new ConfigError(`cannot open the SQLite database: ${(error as Error).message}`, { file: displayPath(location.path) });
  }
  return new SqliteDatabase(db, uri, location.shown, attempts, memory ? {} : location.path);
}

async function retryBusy<T>(attempts: number, work: () => T | Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isBusy(error) || attempt + 1 >= attempts) throw error;
      await backoff(attempt);
    }
  }
}

/** better-sqlite3 binds no booleans: they are stored as 1 and 0, as SQLAlchemy stores them. */
const bindable = (params: readonly SqlValue[]) => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));

// Statements are compiled once per connection: a store repeats the same few thousands of times.
const CACHED_STATEMENTS = 200;

function statements(db: BetterSqlite): Queryable {
  // Raw mode (rows as arrays) sticks to a compiled statement, so `values` keeps statements of its own.
  const caches = [new Map<string, import('better-sqlite3').Statement>(), new Map<string, import('better-sqlite3').Statement>()];
  const prepared = (sql: string, raw = false) => {
    const cache = caches[raw ? 1 : 0]!;
    let statement = cache.get(sql);
    if (!statement) {
      statement = raw ? db.prepare(sql).raw(true) : db.prepare(sql);
      if (cache.size >= CACHED_STATEMENTS) cache.delete(cache.keys().next().value!);
      cache.set(sql, statement);
    }
    return statement;
  };
  return {
    dialect: 'sqlite',
    async query<T = Row>(sql: string, params: readonly SqlValue[] = []) {
      return prepared(sql).all(...bindable(params)) as T[];
    },
    async values(sql: string, params: readonly SqlValue[] = []) {
      return prepared(sql, true).all(...bindable(params)) as unknown[][];
    },
    async run(sql: string, params: readonly SqlValue[] = []) {
      return prepared(sql).run(...bindable(params)).changes;
    },
  };
}

/**
 * The work queued on each database file by this process. A transaction awaits between statements,
 * so everything else on the file waits for it: on its own connection, or on another one of this
 * process, whose busy wait would block the very thread that has to finish the transaction.
 */
const queues = new Map<string | object, Promise<unknown>>();

class SqliteDatabase implements Database {
  readonly dialect = 'sqlite' as const;
  private readonly direct: Queryable;

  constructor(
    private readonly db: BetterSqlite,
    readonly uri: string,
    readonly shown: string,
    private readonly attempts: number,
    /** The file (an in-memory database: a key of its own). */
    private readonly file: string | object,
  ) {
    this.direct = statements(db);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = (queues.get(this.file) ?? Promise.resolve()).then(work);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    queues.set(this.file, settled);
    void settled.then(() => {
      if (queues.get(this.file) === settled) queues.delete(this.file);
    });
    return result;
  }

  query<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.exclusive(() => retryBusy(this.attempts, () => this.direct.query<T>(sql, params)));
  }

  values(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]> {
    return this.exclusive(() => retryBusy(this.attempts, () => this.direct.values(sql, params)));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.exclusive(() => retryBusy(this.attempts, () => this.direct.run(sql, params)));
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.exclusive(() =>
      retryBusy(this.attempts, async () => {
        this.db.exec('BEGIN IMMEDIATE');
        try {
          const result = await work(this.direct);
          this.db.exec('COMMIT');
          return result;
        } catch (error) {
          if (this.db.inTransaction) this.db.exec('ROLLBACK');
          throw error;
        }
      }),
    ).catch((error) => {
      if (isBusy(error)) throw new FailureError(`${this.shown}: the database stayed locked by another process after ${this.attempts} attempts`);
      throw error;
    });
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {});
    if (this.db.open) this.db.close();
  }
}
