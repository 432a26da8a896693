import { closeSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { tempName } from '../core/atomic.js';
import type { HashInfo } from './tree.js';

// What is known of one hashed directory, as one file read and written in a single pass: a version
// line, one line per file in manifest order (`relpath  ino  mtime  ctime  size  md5`, tab-separated,
// md5 empty for a file changed too recently to trust), then a line starting with a tab holding the
// directory's hash when every file was trustworthy. Because the lines follow the order the directory
// is walked in, checking or re-hashing a folder of any size streams it against this file: memory
// stays flat however many files it holds (a JSON table of every file was 300 MB at 100,000 files).
const VERSION = 'mlops-dir-state 1';
const BLOCK = 256 * 1024;

export interface FileState {
  readonly rel: string;
  /** statSignature of the file when it was hashed. */
  readonly signature: string;
  /** Empty when the file was too fresh to trust (core/signature's `settled`). */
  readonly md5: string;
}

const ESCAPED = /[\\\t\n\r]/;
const escapeRel = (rel: string) => (ESCAPED.test(rel) ? rel.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!) : rel);
const unescapeRel = (text: string) => (text.includes('\\') ? text.replace(/\\(.)/g, (_, c: string) => ({ t: '\t', n: '\n', r: '\r' })[c] ?? c) : text);

/** Reads a directory's state file line by line; a missing, foreign or damaged file reads as empty. */
export class DirStateReader {
  private pending: string[] = [];
  private rest = '';
  private readonly decoder = new StringDecoder('utf8');
  private readonly buffer = Buffer.allocUnsafe(BLOCK);
  private ended = false;
  /** The directory's hash, once every file line has been read (and only if the writer knew it). */
  info?: HashInfo;

  private constructor(private fd: number | undefined) {}

  static open(path: string): DirStateReader {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
    } catch {
      return new DirStateReader(undefined);
    }
    const reader = new DirStateReader(fd);
    if (reader.line() !== VERSION) reader.close();
    return reader;
  }

  /** The next file, or undefined at the end (then `info` is set if the file recorded it). */
  next(): FileState | undefined {
    const line = this.line();
    if (line === undefined) return undefined;
    if (line.startsWith('\t')) {
      const [md5, size, nfiles] = line.slice(1).split('\t');
      if (md5) this.info = { md5, size: Number(size), nfiles: Number(nfiles) };
      this.close();
      return undefined;
    }
    const first = line.indexOf('\t');
    const last = line.lastIndexOf('\t');
    if (first <= 0 || last === first) {
      this.close(); // damaged: what was read so far is still right, the rest is unknown
      return undefined;
    }
    return { rel: unescapeRel(line.slice(0, first)), signature: line.slice(first + 1, last), md5: line.slice(last + 1) };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.pending = [];
    this.ended = true;
  }

  private line(): string | undefined {
    while (this.pending.length === 0) {
      if (this.ended || this.fd === undefined) return undefined;
      const n = readSync(this.fd, this.buffer, 0, BLOCK, null);
      const text = this.rest + (n === 0 ? this.decoder.end() : this.decoder.write(this.buffer.subarray(0, n)));
      const lines = text.split('\n');
      this.rest = n === 0 ? '' : lines.pop()!;
      if (n === 0) {
        this.ended = true;
        if (lines.at(-1) === '') lines.pop();
      }
      this.pending = lines.reverse();
    }
    return this.pending.pop();
  }
}

/** Writes a directory's state beside its place, renamed over it by `finish` (never half-visible). */
export class DirStateWriter {
  private chunk: string[] = [VERSION];

  private constructor(
    private readonly path: string,
    private readonly temp: string,
    private readonly fd: number,
  ) {}

  /** A writer, or undefined when the state cannot be written (a read-only `.mlops/`): then nothing is remembered. */
  static create(path: string): DirStateWriter | undefined {
    try {
      mkdirSync(dirname(path), { recursive: true });
      const temp = tempName(path);
      return new DirStateWriter(path, temp, openSync(temp, 'w'));
    } catch {
      return undefined;
    }
  }

  add(file: FileState): void {
    this.chunk.push(`${escapeRel(file.rel)}\t${file.signature}\t${file.md5}`);
    if (this.chunk.length >= 4096) this.flush();
  }

  /** `info`: the directory's hash when every file was settled, else undefined (checked in full next time). */
  finish(info: HashInfo | undefined): void {
    this.chunk.push(info ? `\t${info.md5}\t${info.size}\t${info.nfiles ?? 0}` : '\t');
    this.flush();
    closeSync(this.fd);
    renameSync(this.temp, this.path);
  }

  abort(): void {
    closeSync(this.fd);
    rmSync(this.temp, { force: true });
  }

  private flush(): void {
    writeSync(this.fd, this.chunk.join('\n') + '\n');
    this.chunk = [];
  }
}
