import { interactive } from './output.js';

// A progress bar on stderr for a person at a terminal; nothing elsewhere (CI and pipes get the
// command's summary line instead). Redrawn at most every 100 ms, and wiped when done.

const WIDTH = 30;
const REDRAW_MS = 100;

export interface ProgressBar {
  update(done: number, total: number, item: string): void;
  /** Wipes the bar. */
  stop(): void;
}

export function progressBar(label: string): ProgressBar {
  const stream = process.stderr;
  if (!interactive || !stream.isTTY || !stream.columns) return { update: () => {}, stop: () => {} };
  let last = 0;
  let drawn = false;
  return {
    update(done, total, item) {
      const now = Date.now();
      if (done < total && now - last < REDRAW_MS) return;
      last = now;
      const filled = total === 0 ? WIDTH : Math.round((WIDTH * done) / total);
      const line = `${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${done}/${total} ${item}`;
      stream.write(`\r\x1b[2K${line.slice(0, stream.columns - 1)}`);
      drawn = true;
    },
    stop() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}
