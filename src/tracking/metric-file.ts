import { existsSync } from 'node:fs';
import { link, open, rm, writeFile } from 'node:fs/promises';
import { tempName } from '../core/atomic.js';
import type { Metric } from './store.js';

// A metric file holds one line per logged value, `<epoch_ms> <value> <step>\n`, appended as MLflow does.

/** A float as Python's str() prints it (`3.0`, `nan`, `inf`), which MLflow's reader and ours both parse. */
function formatMetricValue(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return value.toFixed(1);
  return String(value);
}

function parseMetricValue(text: string): number {
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  const value = text.trim() === '' ? NaN : Number(text);
  if (Number.isNaN(value)) throw new Error(`'${text}' is not a number`);
  return value;
}

export function formatMetricLine(metric: Metric): string {
  return `${metric.timestamp} ${formatMetricValue(metric.value)} ${metric.step}\n`;
}

/** Every value in a metric file; a line MLflow could not read is an error, as it is for MLflow. */
export function parseMetricLines(key: string, text: string): Metric[] {
  const out: Metric[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const parts = trimmed.split(' ');
    if (parts.length !== 2 && parts.length !== 3) throw new Error(`metric '${key}': malformed line '${trimmed}'`);
    const timestamp = Number(parts[0]);
    const step = parts.length === 3 ? Number(parts[2]) : 0;
    if (!Number.isInteger(timestamp) || !Number.isInteger(step)) throw new Error(`metric '${key}': malformed line '${trimmed}'`);
    out.push({ key, value: parseMetricValue(parts[1]!), timestamp, step });
  }
  if (out.length === 0) throw new Error(`metric '${key}': no values`);
  return out;
}

/** A metric history's order on every store: by step, then time, then value (NaN last). */
export function compareMetricPoints(a: Metric, b: Metric): number {
  return a.step - b.step || a.timestamp - b.timestamp || (Number.isNaN(a.value) ? 1 : 0) - (Number.isNaN(b.value) ? 1 : 0) || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
}

/** MLflow's latest value: the max by (step, timestamp, value). */
export function latestMetric(history: readonly Metric[]): Metric {
  let best = history[0]!;
  for (const m of history) {
    if (m.step !== best.step ? m.step > best.step : m.timestamp !== best.timestamp ? m.timestamp > best.timestamp : m.value > best.value) {
      best = m;
    }
  }
  return best;
}

/**
 * Appends lines with one write(2) on an O_APPEND descriptor: the kernel positions each write at the end
 * of the file, so lines from processes logging at once interleave whole, never torn or overwritten.
 */
export async function appendLines(path: string, text: string): Promise<void> {
  // A file not there yet is written whole under a temp name and linked into place: created by the
  // append, a kill before the write would leave an empty metric file, which MLflow and we refuse to
  // read. A link that finds the file there (created meanwhile), or a file system without links, appends.
  if (!existsSync(path)) {
    const temp = tempName(path);
    await writeFile(temp, text);
    try {
      await link(temp, path);
      return;
    } catch {
      // appended below
    } finally {
      await rm(temp, { force: true });
    }
  }
  const handle = await open(path, 'a');
  try {
    const data = Buffer.from(text);
    const { bytesWritten } = await handle.write(data, 0, data.length);
    if (bytesWritten !== data.length) throw new Error(`short write to ${path}`);
  } finally {
    await handle.close();
  }
}
