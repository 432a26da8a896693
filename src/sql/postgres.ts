import { ConfigError, FailureError } from '../core/errors.js';
import { backoff, numberedPlaceholders, type Database, type Queryable, type Row, type SqlValue } from './database.js';
import type { PostgresLocation } from './uri.js';

// PostgreSQL through node-postgres (loaded on first use), one pool per opened store. Connecting is
// retried a bounded number of times (a server starting up, a network blip), then fails with one line
// naming the host and port, never the password. A transaction that lost a deadlock or serialization
// race is run again.

type Pool = import('pg').Pool;
type PoolClient = import('pg').PoolClient;

export interface PostgresOptions {
  /** How many times a connection is tried before giving up. */
  readonly connectAttempts?: number;
  readonly poolSize?: number;
}

// Connection problems worth another try; anything else (wrong password, no such database) is final.
const TRANSIENT_CONNECT = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P03', '53300']);
// deadlock_detected, serialization_failure
const RETRY_TRANSACTION = new Set(['40P01', '40001']);
const TRANSACTION_ATTEMPTS = 10;
const BIGINT_OID = 20;

const codeOf = (error: unknown) => (error as { code?: string }).code ?? '';

export async function openPostgres(location: PostgresLocation, uri: string, options: PostgresOptions = {}): Promise<Database> {
  const { default: pg } = await import('pg');
  const { connectAttempts = 5, poolSize = 4 } = options;
  const pool = new pg.Pool({
    connectionString: location.connectionString,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    // A command's process exits when its work is done, without every caller closing the pool.
    allowExitOnIdle: true,
    // BIGINT columns hold millisecond times and steps, all well inside a double's exact range.
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === BIGINT_OID ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
  });
  // An idle connection the server drops must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  for (let attempt = 0; ; attempt++) {
    try {
      const client = await pool.connect();
      client.release();
      break;
    } catch (error) {
      if (TRANSIENT_CONNECT.has(codeOf(error)) && attempt + 1 < connectAttempts) {
        await backoff(attempt, 100, 2_000);
        continue;
      }
      await pool.end().catch(() => {});
      throw connectError(location, error, attempt + 1);
    }
  }
  return new PostgresDatabase(pool, uri, location.shown);
}

function connectError(location: PostgresLocation, error: unknown, attempts: number): Error {
  const where = `PostgreSQL at ${location.host}:${location.port}`;
  const code = codeOf(error);
  const reason = (error as Error).message;
  if (code === '28P01' || code === '28000') return new ConfigError(`${where}: authentication failed for user '${location.user ?? '(default)'}'`);
  if (code === '3D000') return new ConfigError(`${where}: database '${location.database}' does not exist (create it: createdb -h ${location.host} -p ${location.port} ${location.database})`);
  if (code === 'ENOTFOUND') return new ConfigError(`${where}: unknown host`);
  return new FailureError(`cannot connect to ${where} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason.replace(/postgres(ql)?:\/\/\S*/g, '')}`);
}

function statements(client: Pool | PoolClient): Queryable {
  return {
    dialect: 'postgresql',
    async query<T = Row>(sql: string, params: readonly SqlValue[] = []) {
      return (await client.query(numberedPlaceholders(sql), params as unknown[])).rows as T[];
    },
    async values(sql: string, params: readonly SqlValue[] = []) {
      return (await client.query({ text: numberedPlaceholders(sql), values: params as unknown[], rowMode: 'array' })).rows as unknown[][];
    },
    async run(sql: string, params: readonly SqlValue[] = []) {
      return (await client.query(numberedPlaceholders(sql), params as unknown[])).rowCount ?? 0;
    },
  };
}

class PostgresDatabase implements Database {
  readonly dialect = 'postgresql' as const;
  private readonly direct: Queryable;

  constructor(
    private readonly pool: Pool,
    readonly uri: string,
    readonly shown: string,
  ) {
    this.direct = statements(pool);
  }

  query<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.direct.query<T>(sql, params);
  }

  values(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]> {
    return this.direct.values(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.direct.run(sql, params);
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(statements(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        if (!RETRY_TRANSACTION.has(codeOf(error)) || attempt + 1 >= TRANSACTION_ATTEMPTS) throw error;
        await backoff(attempt);
      } finally {
        client.release();
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
