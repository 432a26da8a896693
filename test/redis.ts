import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { deletePrefix } from '../src/queue/bullmq.js';

// Redis for the queue tests: the machine's broker at 127.0.0.1:6379 when it answers (MLOPS_TEST_REDIS_URL
// names another), else a throwaway redis-server of the test's own. Tests use a unique key prefix and
// delete their keys; a test that restarts its broker always starts its own.

type After = { after(fn: () => void | Promise<void>): void };

export interface Broker {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Starts the server again on the same port and folder (a restart). */
  start(): Promise<void>;
}

/** A client that fails at once instead of reconnecting. */
const oneShot = (url: string) => {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  return client;
};

async function answers(port: number, host = '127.0.0.1'): Promise<boolean> {
  const client = oneShot(`redis://${host}:${port}/0`);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** A redis-server of this test's own on a free port, stopped when the test ends; `dir` with appendonly keeps data across restarts. */
export async function ownBroker(t: After, options: { dir?: string } = {}): Promise<Broker> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...(options.dir ? ['--dir', options.dir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'])];
  const broker: Broker = {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    async start() {
      child = spawn('redis-server', args, { stdio: 'ignore' });
      for (let i = 0; i < 100 && !(await answers(port)); i++) await sleep(50);
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
  await broker.start();
  t.after(() => broker.stop());
  return broker;
}

/** The shared broker (or a throwaway one), and a key prefix of this test's own whose keys are deleted after. */
export async function testBroker(t: After): Promise<{ url: string; prefix: string }> {
  const prefix = `mlops-test-${randomBytes(5).toString('hex')}`;
  const given = process.env.MLOPS_TEST_REDIS_URL;
  const url = given ?? ((await answers(6379)) ? 'redis://127.0.0.1:6379/0' : (await ownBroker(t)).url);
  t.after(() => deletePrefix(url, prefix));
  return { url, prefix };
}

