// Access log lines leave in chunks: pino writes one line per request, and a write(2) to stdout per
// request cost about a tenth of a single-row request's CPU. Lines are gathered for a few
// milliseconds (or 64 KiB) and written together by the stream, in order; what is left is written
// when the server closes, or when the process exits.

const FLUSH_MS = 20;
const MAX_PENDING = 64 * 1024;

export class BufferedLines {
  private pending = '';
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly onExit = () => this.flush();

  constructor(private readonly out: NodeJS.WritableStream) {
    process.once('exit', this.onExit);
  }

  /** What pino calls with each line. */
  write(line: string): boolean {
    this.pending += line;
    if (this.closed || this.pending.length >= MAX_PENDING) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
    return true;
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    this.out.write(this.pending);
    this.pending = '';
  }

  /** Writes what is pending; later lines are written at once. */
  close(): void {
    this.closed = true;
    this.flush();
    process.removeListener('exit', this.onExit);
  }
}
