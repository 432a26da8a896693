import { createReadStream, createWriteStream, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { md5Text } from '../cache/hash.js';
import { FailureError, MlopsError } from '../core/errors.js';
import { Md5Thread } from './md5-thread.js';
import { downloadInParts, pump, type PartSource } from './parts.js';
import { Limit } from './pool.js';
import { NotPlainRangeError, receiveRange, type SignedRequest } from './range-socket.js';
import { copyAfter, md5Tap, ObjectMissingError, READ_ONLY, RemoteAccessError, RemoteMissingError, TransientRemoteError, WRITABLE, type Comparison, type RemoteStore } from './store.js';

/** What an `s3://` remote is opened with: DVC's keys, already checked. */
export interface S3Options {
  readonly bucket: string;
  /** Key prefix inside the bucket, '' or ending in '/'. */
  readonly prefix: string;
  readonly endpointurl?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
  readonly useSsl?: boolean;
  readonly sslVerify?: boolean;
  /** Connections kept open: one per transfer at once. */
  readonly jobs: number;
}

// Files above this go up in parts (lib-storage's multipart upload), which holds at most
// PART_SIZE * PARTS_IN_FLIGHT bytes of one file in memory; smaller ones are one PUT of the file read whole.
// Whatever -j, at most MULTIPARTS_AT_ONCE files go up in parts at once: memory stays near
// MULTIPARTS_AT_ONCE * 64 MiB + jobs * 16 MiB, and each big file already has its parts in flight.
export const MULTIPART_THRESHOLD = 16 * 1024 * 1024;
const PART_SIZE = 16 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;
const MULTIPARTS_AT_ONCE = 2;
/** Objects up to this size are downloaded into memory and written in one go; larger ones stream. */
const SMALL_OBJECT = 256 * 1024;
// Objects above one part come down as parts at once (ranged GETs, as aws s3 cp does), hashed on another
// thread behind them (parts.ts): one stream from one server connection is slower than the disk, and
// hashing on the receiving thread would slow it further. Memory: a few 1 MiB blocks per part in flight.
const GET_PART_SIZE = 8 * 1024 * 1024;
const GET_PARTS_IN_FLIGHT = 4;

/** An S3 bucket (AWS, or an S3-compatible server through `endpointurl`) through the AWS SDK v3. */
export class S3RemoteStore implements RemoteStore {
  readonly prefersListing = true;
  private client?: Promise<{ s3: S3Client; sdk: typeof import('@aws-sdk/client-s3') }>;
  private checked?: Promise<void>;
  private readonly multiparts = new Limit(MULTIPARTS_AT_ONCE);
  private hasher?: Md5Thread;

  constructor(private readonly options: S3Options) {}

  get location(): string {
    return `s3://${this.options.bucket}/${this.options.prefix}`.replace(/\/$/, '');
  }

  // The SDK is loaded on first use: commands that never touch a remote never pay for it.
  private open() {
    this.client ??= (async () => {
      const sdk = await import('@aws-sdk/client-s3');
      const o = this.options;
      const endpoint = o.endpointurl && o.useSsl === false ? o.endpointurl.replace(/^https:/, 'http:') : o.endpointurl;
      const agent = { keepAlive: true, maxSockets: o.jobs };
      const s3 = new sdk.S3Client({
        region: o.region ?? 'us-east-1',
        followRegionRedirects: true,
        ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
        ...(o.accessKeyId && o.secretAccessKey
          ? { credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey, ...(o.sessionToken ? { sessionToken: o.sessionToken } : {}) } }
          : {}),
        ...(o.profile ? { profile: o.profile } : {}),
        // Retries are ours (sync.ts), with backoff and a bound the user sees; one attempt per call here.
        maxAttempts: 1,
        // Only the checksums S3 requires: the md5 of every object is verified on our side anyway.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: {
          httpAgent: new HttpAgent(agent),
          httpsAgent: new HttpsAgent({ ...agent, rejectUnauthorized: o.sslVerify !== false }),
          connectionTimeout: 5_000,
          requestTimeout: 120_000,
        },
      });
      return { s3, sdk };
    })();
    return this.client;
  }

  private key(key: string): string {
    return `${this.options.prefix}${key}`;
  }

  /** One HEAD of the bucket before the first request: a missing bucket or a refusal is said once, clearly. */
  private ready(): Promise<void> {
    this.checked ??= (async () => {
      const { s3, sdk } = await this.open();
      try {
        await s3.send(new sdk.HeadBucketCommand({ Bucket: this.options.bucket }));
      } catch (error) {
        this.checked = undefined; // a transient failure is retried by the caller, and checked again
        throw this.translate(error, `bucket ${this.options.bucket}`);
      }
    })();
    return this.checked;
  }

  async exists(key: string): Promise<boolean> {
    await this.ready();
    const { s3, sdk } = await this.open();
    try {
      await s3.send(new sdk.HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
      return true;
    } catch (error) {
      if (status(error) === 404) return false;
      throw this.translate(error, key);
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    for await (const object of this.listSized(prefix)) yield object.key;
  }

  /** Every key below `prefix` with its object's size, as one listing gives them. */
  async *listSized(prefix: string): AsyncIterable<{ key: string; size: number }> {
    await this.ready();
    const { s3, sdk } = await this.open();
    let token: string | undefined;
    const strip = this.options.prefix.length;
    do {
      let page;
      try {
        page = await s3.send(new sdk.ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: this.key(prefix), ContinuationToken: token, MaxKeys: 1000 }));
      } catch (error) {
        throw this.translate(error, prefix);
      }
      for (const o of page.Contents ?? []) if (o.Key) yield { key: o.Key.slice(strip), size: o.Size ?? 0 };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async put(key: string, file: string, size: number, onBytes?: (n: number) => void): Promise<void> {
    await this.ready();
    const { s3, sdk } = await this.open();
    const target = { Bucket: this.options.bucket, Key: this.key(key) };
    try {
      if (size <= MULTIPART_THRESHOLD) {
        await s3.send(new sdk.PutObjectCommand({ ...target, Body: await readFile(file), ContentLength: size }));
        onBytes?.(size);
        return;
      }
      // S3 shows a multipart object only once it is completed: a killed push leaves no half object.
      const { Upload } = await import('@aws-sdk/lib-storage');
      await this.multiparts.run(async () => {
        const upload = new Upload({
          client: s3,
          params: { ...target, Body: createReadStream(file, { highWaterMark: 1 << 20 }) },
          partSize: PART_SIZE,
          queueSize: PARTS_IN_FLIGHT,
          leavePartsOnError: false,
        });
        let sent = 0;
        upload.on('httpUploadProgress', (p) => {
          if (p.loaded === undefined) return;
          onBytes?.(p.loaded - sent);
          sent = p.loaded;
        });
        await upload.done();
      });
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  async get(key: string, dest: string, onBytes?: (n: number) => void, copy?: string, compare?: Comparison): Promise<string> {
    await this.ready();
    const { s3, sdk } = await this.open();
    const request = async (range?: string) => {
      try {
        return await s3.send(new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key), Range: range }));
      } catch (error) {
        if (status(error) === 404) throw new ObjectMissingError(`${key} is not on the remote`);
        throw error;
      }
    };
    // The first part is asked for by range: its answer names the object's size, so a large object goes on
    // in parts with no HEAD first, and a small one is whole in it. A range of an empty object cannot be
    // satisfied: S3 answers 416 (s3rver a broken 206 naming size 0); either way there is nothing to read.
    let first;
    try {
      first = await request(`bytes=0-${GET_PART_SIZE - 1}`);
    } catch (error) {
      if (error instanceof ObjectMissingError) throw error;
      if (status(error) !== 416) throw this.translate(error, key);
    }
    const body = first?.Body as Readable | undefined;
    const size = first ? objectSize(first) : 0;
    if (!first || !body || size === 0) {
      body?.destroy();
      writeFileSync(dest, '', { mode: READ_ONLY, flag: 'wx' });
      await copyAfter(dest, copy);
      return md5Text('');
    }
    if (size !== undefined && size > (first.ContentLength ?? size)) {
      const source: PartSource = {
        size,
        partSize: GET_PART_SIZE,
        first: body,
        receive: async (start, end, into, signal) => {
          const range = `bytes=${start}-${end - 1}`;
          const signed = await this.signedGet(key, range);
          if (signed) {
            try {
              return await receiveRange(signed, end - start, into, signal);
            } catch (error) {
              if (!(error instanceof NotPlainRangeError)) throw error;
            }
          }
          let answer;
          try {
            answer = await request(range);
          } catch (error) {
            throw this.translate(error, key);
          }
          await pump(answer.Body as Readable, into, end - start, signal);
        },
        networkError: (error: unknown) => this.translate(error, key),
      };
      return downloadInParts(dest, source, GET_PARTS_IN_FLIGHT, (this.hasher ??= new Md5Thread()), onBytes, copy, compare);
    }
    const { tap, digest } = md5Tap(onBytes);
    let whole: Buffer | undefined;
    try {
      if (size !== undefined && size <= SMALL_OBJECT) {
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk as Buffer);
        whole = Buffer.concat(chunks);
      } else await pipeline(body, tap, createWriteStream(dest, { mode: READ_ONLY }));
    } catch (error) {
      throw this.translate(error, key);
    }
    if (!whole) {
      await copyAfter(dest, copy);
      return digest();
    }
    // A small object is written at once, on this thread: three thread-pool round trips (open, write,
    // close) cost more than the write itself, and with thousands of objects they add up.
    writeFileSync(dest, whole, { mode: READ_ONLY, flag: 'wx' });
    if (copy !== undefined) writeFileSync(copy, whole, { mode: WRITABLE, flag: 'wx' });
    onBytes?.(whole.length);
    return md5Text(whole);
  }

  /**
   * GetObject of `range` as the SDK would send it, signed but not sent, when the endpoint is plain HTTP
   * (range-socket.ts receives it); undefined over HTTPS, which the SDK's own client handles.
   */
  private async signedGet(key: string, range: string): Promise<SignedRequest | undefined> {
    const { endpointurl, useSsl } = this.options;
    if (!endpointurl || (useSsl !== false && !endpointurl.startsWith('http:'))) return undefined;
    const { s3, sdk } = await this.open();
    const command = new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key), Range: range });
    // The request the signing step passes on is the one to send: taken there, it goes no further.
    const taken = new Error('signed');
    let request: { protocol: string; hostname: string; port?: number; path: string; query: Record<string, string | string[] | null>; headers: Record<string, string> } | undefined;
    command.middlewareStack.addRelativeTo(
      () => async (args: { request: unknown }) => {
        request = args.request as typeof request;
        throw taken;
      },
      { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'mlopsTakeSigned' },
    );
    try {
      await s3.send(command);
    } catch (error) {
      if (error !== taken) throw this.translate(error, key);
    }
    if (!request || request.protocol !== 'http:') return undefined;
    // encoded as the SDK's own HTTP handler does (RFC 3986), so the server reads back what was signed
    const escape = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const search = Object.entries(request.query)
      .flatMap(([name, value]) => (value === null ? [escape(name)] : [value].flat().map((v) => `${escape(name)}=${escape(v)}`)))
      .join('&');
    return { hostname: request.hostname, port: request.port ?? 80, target: `${request.path}${search ? `?${search}` : ''}`, headers: request.headers };
  }

  async close(): Promise<void> {
    if (this.client) (await this.client).s3.destroy();
    await this.hasher?.close();
  }

  /** An SDK or network error as one of ours, naming the remote and what was asked. */
  private translate(error: unknown, what: string): Error {
    if (error instanceof MlopsError) return error; // already said (a part's request, translated where it was made)
    const code = status(error);
    const name = (error as { name?: string; Code?: string }).Code ?? (error as Error).name;
    const where = `${this.location} (${what})`;
    if (code === 403 || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'AccessDenied') {
      return new RemoteAccessError(`${where}: access denied (${name || code}): check the remote's credentials`);
    }
    if (name === 'NoSuchBucket' || (code === 404 && what.startsWith('bucket '))) {
      return new RemoteMissingError(`${this.location}: bucket '${this.options.bucket}' does not exist`);
    }
    if (name === 'CredentialsProviderError') return new RemoteAccessError(`${where}: no credentials found (set access_key_id and secret_access_key, a profile, or AWS_* variables)`);
    const sys = (error as { code?: string }).code ?? ((error as { cause?: { code?: string } }).cause?.code);
    if (code === undefined || code >= 500 || code === 429 || name === 'SlowDown' || name === 'TimeoutError' || sys) {
      const detail = sys ?? name ?? 'error';
      return new TransientRemoteError(`${where}: ${detail}${(error as Error).message && !String(detail).includes((error as Error).message) ? ` (${(error as Error).message})` : ''}`);
    }
    return new FailureError(`${where}: ${name} (HTTP ${code})${error instanceof Error && error.message ? `: ${error.message}` : ''}`);
  }
}

/** The whole object's size: from Content-Range (`bytes 0-99/1234`) when a range was answered, else the body's length. */
function objectSize(response: { ContentRange?: string; ContentLength?: number }): number | undefined {
  const total = response.ContentRange && /\/(\d+)$/.exec(response.ContentRange)?.[1];
  return total ? Number(total) : response.ContentLength;
}

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
