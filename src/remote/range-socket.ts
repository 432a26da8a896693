import { connect } from 'node:net';
import type { ByteSink } from './parts.js';

/** A GET of a byte range as the SDK signed it, to send over plain HTTP. */
export interface SignedRequest {
  readonly hostname: string;
  readonly port: number;
  /** The path with its query string, encoded as sent. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The answer was not the plain 206 with a Content-Length this reader takes: the SDK asks again and says what went wrong. */
export class NotPlainRangeError extends Error {}

// Why not Node's HTTP client for these bodies: its parser copies every body byte into a buffer of its
// own (a fresh allocation per 16-64 KiB piece), and the allocator and the GC then cost 0.8-4.6 s of
// CPU per GiB received on this machine, against 0.35 s reading the socket into one reused buffer
// (`onread`). Only the body takes this path: the request is signed by the SDK, the answer's head is
// checked strictly, and anything else (another status, chunked encoding, TLS) goes through the SDK.
const READ_BUFFER = 64 * 1024;
/** The longest head taken: S3's are well under 2 KiB. */
const MAX_HEAD = 16 * 1024;
const TIMEOUT_MS = 120_000;

/** Receives the `length` bytes of a range answer into `into`; network failures reject with the socket's error (its `code` set). */
export function receiveRange(request: SignedRequest, length: number, into: ByteSink, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let head: Buffer | undefined = Buffer.alloc(0);
    let received = 0;
    let settled = false;
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(signal.reason);
    /** Body bytes; false pauses the socket until the sink is drained. */
    const body = (bytes: Uint8Array): boolean => {
      received += bytes.length;
      if (received > length) {
        finish(new Error(`the server sent more than the ${length} bytes asked for`));
        return false;
      }
      const more = into.push(bytes);
      if (received === length) {
        finish();
        return false;
      }
      if (!more) into.drained().then(() => settled || socket.resume(), finish);
      return more;
    };
    const socket = connect({
      host: request.hostname,
      port: request.port,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER),
        callback: (n: number, buffer: Uint8Array): boolean => {
          if (settled) return false;
          if (head === undefined) return body(buffer.subarray(0, n));
          head = Buffer.concat([head, buffer.subarray(0, n)]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length <= MAX_HEAD) return true;
            finish(new NotPlainRangeError('an answer head over 16 KiB'));
            return false;
          }
          const problem = checkHead(head.subarray(0, end).toString('latin1'), length);
          if (problem) {
            finish(new NotPlainRangeError(problem));
            return false;
          }
          const rest = head.subarray(end + 4);
          head = undefined;
          return rest.length === 0 || body(rest);
        },
      },
    });
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.setTimeout(TIMEOUT_MS, () => finish(Object.assign(new Error(`no answer for ${TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    socket.on('error', finish);
    socket.on('close', () => finish(Object.assign(new Error(`the connection closed after ${received} of ${length} bytes`), { code: 'ECONNRESET' })));
    const lines = Object.entries(request.headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`GET ${request.target} HTTP/1.1\r\n${lines.join('')}connection: close\r\n\r\n`);
  });
}

/** What is wrong with an answer head for a range of `length` bytes, or undefined when it is a plain 206 of that length. */
function checkHead(head: string, length: number): string | undefined {
  const [status, ...fields] = head.split('\r\n');
  const code = /^HTTP\/1\.[01] (\d{3})/.exec(status ?? '')?.[1];
  if (code !== '206') return `HTTP ${code ?? 'answer unreadable'}`;
  let contentLength: string | undefined;
  for (const field of fields) {
    const colon = field.indexOf(':');
    const name = field.slice(0, colon).trim().toLowerCase();
    const value = field.slice(colon + 1).trim();
    if (name === 'transfer-encoding') return `transfer-encoding ${value}`;
    if (name === 'content-length') contentLength = value;
  }
  return contentLength === String(length) ? undefined : `content-length ${contentLength ?? 'missing'} for ${length} bytes`;
}
