import type { Progress } from '../remote/sync.js';

/** Bytes as people read them: 1.5 MB, 812 kB. */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * A progress bar for a transfer (objects and bytes) on a terminal's stderr, redrawn in place until
 * cleared; nothing in CI or a pipe, where the command prints one summary line at the end instead.
 */
export function transferBar(verb: string): { update: (p: Progress) => void; clear: () => void } {
  const stream = process.stderr;
  if (!stream.isTTY || process.env.CI || !stream.columns) return { update: () => {}, clear: () => {} };
  let drawn = false;
  let cleared = false;
  const started = Date.now();
  return {
    update(p) {
      if (cleared) return; // wiped for good (a Ctrl-C's handler: transfers still report until the exit)
      const width = Math.max(10, Math.min(30, stream.columns - 60));
      const ratio = p.totalBytes ? p.bytes / p.totalBytes : p.totalObjects ? p.objects / p.totalObjects : 1;
      const filled = Math.round(Math.min(1, ratio) * width);
      const seconds = Math.max(0.001, (Date.now() - started) / 1000);
      const bytes = p.totalBytes === undefined ? formatBytes(p.bytes) : `${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}`;
      const line = `${verb} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.objects}/${p.totalObjects} objects, ${bytes}, ${formatBytes(p.bytes / seconds)}/s`;
      stream.write(`\r${line.slice(0, stream.columns - 1)}\x1b[K`);
      drawn = true;
    },
    clear() {
      if (drawn) stream.write('\r\x1b[K');
      cleared = true;
    },
  };
}
