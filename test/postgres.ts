import { randomBytes } from 'node:crypto';

// A throwaway PostgreSQL database per test: created on the server of MLOPS_TEST_POSTGRES_URL (else
// the local one, postgresql://postgres@127.0.0.1:5432), under a unique name, and dropped after.

const SERVER = process.env.MLOPS_TEST_POSTGRES_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';

/** The server's URI with another database name. */
function withDatabase(uri: string, database: string): string {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.href;
}

async function admin<T>(work: (client: import('pg').Client) => Promise<T>): Promise<T> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: withDatabase(SERVER, 'postgres'), connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

let reachable: Promise<string | undefined> | undefined;

/** Why no PostgreSQL server answers, or undefined when one does. */
export function postgresUnavailable(): Promise<string | undefined> {
  reachable ??= admin(async (c) => void (await c.query('SELECT 1'))).then(
    () => undefined,
    (error: Error) => `no PostgreSQL server answers at ${new URL(SERVER).host} (${error.message}); set MLOPS_TEST_POSTGRES_URL`,
  );
  return reachable;
}

/**
 * A fresh, empty database's URI, dropped when the test ends; undefined (and the test skipped with the
 * reason) when no server answers.
 */
export async function postgresDatabase(t: { after(fn: () => Promise<void>): void; skip(reason: string): void }, label = 'mlops'): Promise<string | undefined> {
  const problem = await postgresUnavailable();
  if (problem) {
    t.skip(problem);
    return undefined;
  }
  const name = `${label}_${process.pid}_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  t.after(() => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))));
  return withDatabase(SERVER, name);
}
