import { connect as netConnect, type Socket } from 'node:net';

// A small Redis client speaking RESP2 over one TCP connection, shaped as the "raw" client BullMQ's
// Bun adapter wraps (`send`, `connected`, `connect`, `close`, `duplicate`, `onconnect`/`onclose`).
// BullMQ 6 ships no Redis driver of its own (ioredis and node-redis are optional peers, neither in our
// dependencies); this is the part of one BullMQ needs: commands pipelined in order on the socket, error
// replies as Error values (inside EXEC's array too), and one connection per duplicate for the
// blocking commands. BullMQ's adapter does the reconnecting.

export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
}

/** `redis://[user:password@]host[:port][/db]`; anything else is a UsageError-worthy message (returned, not thrown). */
export function parseRedisUrl(url: string): RedisTarget | string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `not a URL: '${url}'`;
  }
  if (parsed.protocol !== 'redis:') return `expected redis://host:port/db, got '${url}' (rediss:// and sockets are not supported)`;
  const db = parsed.pathname.replace(/^\//, '') || '0';
  if (!/^\d+$/.test(db)) return `the database in '${url}' must be a number`;
  const port = parsed.port ? Number(parsed.port) : 6379;
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port,
    db: Number(db),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

type Reply = string | number | null | Error | Reply[];
type Pending = { resolve: (value: Reply) => void; reject: (error: Error) => void };

/** Thrown for replies that never came because the connection closed (BullMQ's adapter matches the message). */
const closedError = () => new Error('Connection closed');

export class RespClient {
  connected = false;
  onconnect: () => void = () => {};
  onclose: (error?: Error) => void = () => {};
  onerror: (error: Error) => void = () => {};
  private socket: Socket | undefined;
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);

  constructor(readonly target: RedisTarget) {}

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: this.target.host, port: this.target.port, noDelay: true });
      this.socket = socket;
      let opened = false;
      socket.once('connect', () => {
        opened = true;
        this.connected = true;
        // Pipelined ahead of every other command on this socket; a refusal closes the connection.
        const hello: string[][] = [];
        if (this.target.password !== undefined) hello.push(['AUTH', ...(this.target.username ? [this.target.username] : []), this.target.password]);
        if (this.target.db !== 0) hello.push(['SELECT', String(this.target.db)]);
        for (const [command, ...args] of hello) this.send(command!, args).catch((error: Error) => socket.destroy(error));
        this.onconnect();
        resolve();
      });
      socket.on('data', (chunk: Buffer) => this.receive(chunk));
      socket.on('error', (error) => {
        if (!opened) reject(error);
        else this.onerror(error);
      });
      socket.on('close', (hadError) => {
        const wasConnected = this.connected;
        this.connected = false;
        for (const p of this.pending.splice(0)) p.reject(closedError());
        this.buffer = Buffer.alloc(0);
        if (wasConnected || !opened) this.onclose(hadError ? closedError() : undefined);
      });
    });
  }

  /** Writes the command now (so a MULTI...EXEC burst stays contiguous); resolves with its reply. */
  send(command: string, args: readonly unknown[] = []): Promise<unknown> {
    if (!this.connected || !this.socket) return Promise.reject(new Error('Connection is closed.'));
    const parts = [command, ...args].map((a): Buffer => (Buffer.isBuffer(a) ? a : Buffer.from(a === undefined || a === null ? '' : String(a))));
    const frame: Buffer[] = [Buffer.from(`*${parts.length}\r\n`)];
    for (const part of parts) frame.push(Buffer.from(`$${part.length}\r\n`), part, Buffer.from('\r\n'));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve: (value) => (value instanceof Error ? reject(value) : resolve(value)), reject });
      this.socket!.write(Buffer.concat(frame));
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  /** A new, unconnected client for the same server (BullMQ's blocking connections). */
  async duplicate(): Promise<RespClient> {
    return new RespClient(this.target);
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let offset = 0;
    for (;;) {
      const parsed = parseReply(this.buffer, offset);
      if (!parsed) break;
      offset = parsed.next;
      this.pending.shift()?.resolve(parsed.value);
    }
    this.buffer = this.buffer.subarray(offset);
  }
}

/** One reply starting at `offset`, or undefined when the buffer does not hold all of it yet. */
function parseReply(buf: Buffer, offset: number): { value: Reply; next: number } | undefined {
  const end = buf.indexOf('\r\n', offset);
  if (end < 0) return undefined;
  const type = String.fromCharCode(buf[offset]!);
  const line = buf.toString('utf8', offset + 1, end);
  const next = end + 2;
  switch (type) {
    case '+':
      return { value: line, next };
    case '-':
      return { value: new Error(line), next };
    case ':':
      return { value: Number(line), next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next };
      if (buf.length < next + length + 2) return undefined;
      return { value: buf.toString('utf8', next, next + length), next: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new Error(`unexpected reply from Redis: '${type}${line}'`);
  }
}
