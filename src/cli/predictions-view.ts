import { formatCsv, formatNumber } from '../core/csv.js';
import { UsageError } from '../core/errors.js';
import { openPredictionReader, parseRetention } from '../predictions/open.js';
import type { PredictionQuery, PredictionReader } from '../predictions/reader.js';
import type { PredictionRecord } from '../predictions/record.js';
import type { PredictionFlags } from './commands/predictions.js';
import { printJson } from './output.js';
import { openProject } from './project.js';
import { textTable } from './table.js';
import { writeTo } from './write-to.js';

// Runs and prints `mlops predictions list|export`: the flags become a PredictionQuery, the rows come
// through the PredictionReader monitoring uses too.

/** An ISO 8601 date or time (a date alone is midnight UTC; a time without a zone is UTC). */
function parseTime(flag: string, text: string): Date {
  const zoned = /^\d{4}-\d{2}-\d{2}$/.test(text) || /(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(zoned) : NaN;
  if (Number.isNaN(ms)) throw new UsageError(`${flag}: expected an ISO 8601 date or time (2026-01-31, 2026-01-31T12:00Z), got ${JSON.stringify(text)}`);
  return new Date(ms);
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1) throw new UsageError(`${flag}: expected a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

export function queryOf(opts: PredictionFlags, now = Date.now()): PredictionQuery {
  if (opts.since !== undefined && opts.from !== undefined) throw new UsageError('--since and --from are alternatives: give one');
  if (opts.modelVersion !== undefined && opts.model === undefined) throw new UsageError('--model-version needs --model');
  let from = opts.from === undefined ? undefined : parseTime('--from', opts.from);
  if (opts.since !== undefined) {
    if (/^\d{4}-/.test(opts.since)) from = parseTime('--since', opts.since);
    else {
      try {
        from = new Date(now - (parseRetention(opts.since) ?? now));
      } catch {
        throw new UsageError(`--since: expected a duration (30m, 12h, 7d, 2w) or an ISO 8601 time, got ${JSON.stringify(opts.since)}`);
      }
    }
  }
  const to = opts.to === undefined ? undefined : parseTime('--to', opts.to);
  if (from && to && from >= to) throw new UsageError(`--to (${to.toISOString()}) must be after the start (${from.toISOString()})`);
  return { model: opts.model, versions: opts.modelVersion?.map((v) => positive('--model-version', v)), from, to };
}

async function withReader<T>(use: (reader: PredictionReader) => Promise<T>): Promise<T> {
  const reader = await openPredictionReader(await openProject());
  try {
    return await use(reader);
  } finally {
    await reader.close();
  }
}

const shown = (p: string | number) => (typeof p === 'number' ? formatNumber(p) : p);

/** CSV header and rows: the record's fields, one column per input column, one per class probability. */
class CsvLayout {
  private readonly inputs: string[] = [];
  private readonly classes: string[] = [];

  see(r: PredictionRecord): void {
    for (const k of Object.keys(r.input)) if (!this.inputs.includes(k)) this.inputs.push(k);
    for (const k of Object.keys(r.probabilities ?? {})) if (!this.classes.includes(k)) this.classes.push(k);
  }

  header(): string[] {
    return ['request_id', 'time', 'model', 'version', 'prediction', ...this.inputs, ...this.classes.map((c) => `probability_${c}`), 'latency_ms'];
  }

  row(r: PredictionRecord): (string | number)[] {
    return [
      r.request_id, r.time, r.model.name, r.model.version ?? '', r.prediction,
      ...this.inputs.map((c) => r.input[c] ?? ''),
      ...this.classes.map((c) => r.probabilities?.[c] ?? ''),
      r.latency_ms,
    ];
  }
}

/** One CSV line (formatCsv of a header and no rows). */
const csvLine = (cells: readonly (string | number)[]) => formatCsv(cells.map(String), []);

export async function listPredictions(opts: PredictionFlags): Promise<void> {
  const query = { ...queryOf(opts), limit: positive('--limit', opts.limit ?? '50'), newest: true };
  const rows = await withReader(async (reader) => {
    const out: PredictionRecord[] = [];
    for await (const r of reader.rows(query)) out.push(r);
    return out;
  });
  if (opts.json) return printJson(rows);
  if (opts.csv) {
    const layout = new CsvLayout();
    rows.forEach((r) => layout.see(r));
    process.stdout.write(formatCsv(layout.header(), rows.map((r) => layout.row(r))));
    return;
  }
  if (rows.length === 0) return void process.stderr.write('no predictions logged that match\n');
  const probability = (r: PredictionRecord) => (typeof r.prediction === 'string' && r.probabilities ? r.probabilities[r.prediction]!.toFixed(3) : '');
  process.stdout.write(
    textTable(
      ['time', 'request_id', 'model', 'version', 'prediction', 'probability', 'latency_ms'],
      rows.map((r) => [r.time, r.request_id, r.model.name, String(r.model.version ?? ''), String(shown(r.prediction)), probability(r), r.latency_ms.toFixed(2)]),
    ),
  );
}

export async function exportPredictions(opts: PredictionFlags): Promise<void> {
  const query = queryOf(opts);
  await withReader((reader) =>
    writeTo(opts.output, async (write) => {
      if (opts.json) {
        for await (const r of reader.rows(query)) await write(JSON.stringify(r) + '\n');
        return;
      }
      // Two passes, so the header has every input column and class without holding the rows.
      const layout = new CsvLayout();
      for await (const r of reader.rows(query)) layout.see(r);
      await write(csvLine(layout.header()));
      for await (const r of reader.rows(query)) await write(csvLine(layout.row(r)));
    }),
  );
}
