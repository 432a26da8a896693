import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A throwaway PostgreSQL database per test, created under a unique name and dropped after, on:
// the server of MLOPS_TEST_POSTGRES_URL; else the local one (postgresql://postgres@127.0.0.1:5432)
// when it answers; else a server of the test process's own, started from Debian's binaries
// (/usr/lib/postgresql/<version>/bin) in a temp folder, and stopped and removed when the process ends.

const LOCAL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const BINARIES = '/usr/lib/postgresql';
const READY_MS = 60_000;

/** The server's URI with another database name. */
function withDatabase(uri: string, database: string): string {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.href;
}

async function admin<T>(server: string, work: (client: import('pg').Client) => Promise<T>): Promise<T> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: withDatabase(server, 'postgres'), connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const answers = (server: string) => admin(server, async (c) => void (await c.query('SELECT 1'))).then(() => true, () => false);

export interface PostgresServer {
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  /** The temp folder holding its data directory, socket and log. */
  readonly dir: string;
  /** Stops the server (waiting for it) and removes its folder. */
  stop(): void;
}

/** The newest Debian server binaries' folder, or undefined. */
function serverBinaries(): string | undefined {
  if (!existsSync(BINARIES)) return undefined;
  const versions = readdirSync(BINARIES).filter((v) => existsSync(join(BINARIES, v, 'bin', 'postgres'))).sort((a, b) => Number(a) - Number(b));
  return versions.length ? join(BINARIES, versions.at(-1)!, 'bin') : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function run(command: string, args: string[]): void {
  const [cmd, argv] = asServerUser(command, args);
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.trim()}`);
}

const started = new Set<PostgresServer>();
let hooked = false;

/** Stops every server this process started: at its exit, and when it is interrupted or terminated. */
function stopAtExit(): void {
  if (hooked) return;
  hooked = true;
  const stopAll = () => {
    for (const server of started) server.stop();
  };
  process.on('exit', stopAll);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      stopAll();
      process.exit(code);
    });
  }
}

/**
 * Starts a PostgreSQL server of its own: initdb in a temp folder (owned by the server's user), the
 * server on a free port of 127.0.0.1 with its socket in that folder, trust authentication for user
 * postgres, no fsync (the data is thrown away). Resolves once it accepts connections.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = serverBinaries();
  if (!bin) throw new Error(`no PostgreSQL server binaries under ${BINARIES} (apt-get install postgresql)`);
  const dir = mkdtempSync(join(tmpdir(), 'mlops-test-postgres-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  let stopped = false;
  const server: PostgresServer = {
    url: '',
    dir,
    stop() {
      if (stopped) return;
      stopped = true;
      started.delete(server);
      // pg_ctl finds the server by its data directory's postmaster.pid and waits until it is gone.
      if (existsSync(join(data, 'postmaster.pid'))) {
        const [cmd, argv] = asServerUser(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w', '-s']);
        spawnSync(cmd, argv, { stdio: 'ignore' });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  started.add(server);
  stopAtExit();
  try {
    run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    const port = await freePort();
    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    const [cmd, argv] = asServerUser(join(bin, 'postgres'), [
      '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    ]);
    const out = openSync(log, 'a');
    const child = spawn(cmd, argv, { stdio: ['ignore', out, out] });
    closeSync(out);
    // The test process must be free to exit; its exit hook stops the server.
    child.unref();
    let exited = false;
    child.once('exit', () => (exited = true));
    const deadline = Date.now() + READY_MS;
    while (!(await answers(url))) {
      const tail = () => readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ');
      if (exited) throw new Error(`the throwaway PostgreSQL server exited: ${tail()}`);
      if (Date.now() > deadline) throw new Error(`the throwaway PostgreSQL server did not answer within ${READY_MS / 1000} s: ${tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    Object.assign(server, { url });
    return server;
  } catch (error) {
    server.stop();
    throw error;
  }
}

let chosen: Promise<string> | undefined;

/** The server the tests use (see the top); rejects with the reason when there is none. */
function testServer(): Promise<string> {
  chosen ??= (async () => {
    const configured = process.env.MLOPS_TEST_POSTGRES_URL;
    if (configured) {
      if (!(await answers(configured))) throw new Error(`no PostgreSQL server answers at ${new URL(configured).host} (MLOPS_TEST_POSTGRES_URL)`);
      return configured;
    }
    if (await answers(LOCAL)) return LOCAL;
    return (await startPostgresServer()).url;
  })();
  return chosen;
}

/** Why no PostgreSQL server is there for the tests, or undefined when one is. */
export function postgresUnavailable(): Promise<string | undefined> {
  return testServer().then(
    () => undefined,
    (error: Error) => `${error.message}; set MLOPS_TEST_POSTGRES_URL`,
  );
}

/**
 * A fresh, empty database's URI, dropped when the test ends; undefined (and the test skipped with the
 * reason) when there is no server.
 */
export async function postgresDatabase(t: { after(fn: () => Promise<void>): void; skip(reason: string): void }, label = 'mlops'): Promise<string | undefined> {
  const problem = await postgresUnavailable();
  if (problem) {
    t.skip(problem);
    return undefined;
  }
  const server = await testServer();
  return createDatabase(server, label, t);
}

/** A new database on `server`, dropped after the test. */
export async function createDatabase(server: string, label: string, t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const name = `${label}_${process.pid}_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  await admin(server, (c) => c.query(`CREATE DATABASE "${name}"`));
  t.after(() => admin(server, async (c) => void (await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))));
  return withDatabase(server, name);
}
