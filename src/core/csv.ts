import Papa from 'papaparse';
import { ConfigError } from './errors.js';

/** The cells of delimited text, row by row (RFC 4180 quoting; blank lines skipped). */
export function parseRows(text: string, delimiter = ','): string[][] {
  return Papa.parse<string[]>(text, { delimiter, skipEmptyLines: 'greedy' }).data;
}

const POWERS = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * String(v), built from integers for the numbers data files mostly hold (at most 9 decimals, 15 digits,
 * from 1e-6 up): V8's shortest-digits search costs more than two integer conversions. The first k with
 * round(|v| * 10^k) / 10^k === |v| gives the shortest decimal reading back as v (IEEE division rounds
 * correctly; with at most 15 digits no other decimal of that length reads back as v), in the same
 * fixed notation as String(). Anything else goes to String().
 */
export function numberText(v: number): string {
  const a = v < 0 ? -v : v;
  if (a >= 1e-6 && a < 1e15 && a !== Math.floor(a)) {
    for (let k = 1; k < POWERS.length; k++) {
      const p = POWERS[k]!;
      const m = Math.round(a * p);
      if (m >= 1e15) break;
      if (m / p === a) {
        const frac = m % p;
        const digits = String(frac);
        return `${v < 0 ? '-' : ''}${(m - frac) / p}.${digits.length < k ? '0'.repeat(k - digits.length) + digits : digits}`;
      }
    }
  }
  return String(v);
}

/** One CSV field: quoted only when it needs to be (numbers never do). */
export function csvField(value: string | number): string {
  if (typeof value === 'number') return numberText(value);
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** RFC 4180 CSV text: quotes only where a field needs them, a newline after every row. */
export function formatCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return formatRows([header, ...rows]);
}

/** CSV lines, each ended by a newline (no header: a block of a longer file). */
export function formatRows(rows: readonly (readonly (string | number)[])[]): string {
  return rows.map((r) => r.map(csvField).join(',') + '\n').join('');
}

// Typed reading of raw data files (the prepare stage's input, rows to predict, drift samples), with
// pandas' read_csv conventions: a separator detected among , ; and tab, cells in the NA list are
// missing (null), every other cell that is a decimal number is a number (any double: 2^53 and more,
// 1e16 and 1e308 included), the rest are strings. Cells are trimmed.

/** pandas' default na_values (read_csv's STR_NA_VALUES). */
export const PANDAS_NA_VALUES: readonly string[] = [
  '', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN',
  '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null',
];

export const SEPARATORS: readonly string[] = [',', ';', '\t'];

export type Cell = string | number | null;

export interface TypedTable {
  readonly file: string;
  readonly columns: string[];
  /** values[c][r]: column-major. */
  readonly values: Cell[][];
  /** The file line each data row starts on (1-based; the header is line 1 or later). */
  readonly lines: number[];
  readonly nRows: number;
  readonly sep: string;
}

export interface TypedCsvOptions {
  /** undefined: detected from the header line. */
  readonly sep?: string;
  /** Cell texts read as missing (after trimming); the empty cell always is. */
  readonly naValues?: ReadonlySet<string>;
  /** Columns kept as their text, untyped (an id such as 007 stays 007). */
  readonly textColumns?: readonly string[];
}

/**
 * The number a cell's text spells in decimal, or undefined (hex, Infinity, 1e999 stay text). Number()
 * reads exactly the decimal literals (after trimming, which the text must already be) plus 0x/0o/0b
 * integers, the Infinities and the blank text, so those are the ones to refuse after it.
 */
export function parseDecimal(text: string): number | undefined {
  const n = Number(text);
  if (!Number.isFinite(n) || text === '') return undefined;
  const second = text.charCodeAt(1) | 0x20; // lower case
  if (second === 0x78 || second === 0x6f || second === 0x62) return undefined; // 0x, 0o, 0b
  if (text.trim() !== text) return undefined;
  return n;
}

/** The separator occurring most often (outside quotes) in the first non-blank line; ',' when none does. */
export function detectSeparator(text: string): string {
  const header = text.split(/\r?\n/, 50).find((l) => l.trim() !== '') ?? '';
  const unquoted = header.replace(/"[^"]*"/g, '');
  let best = ',';
  let bestCount = 0;
  for (const sep of SEPARATORS) {
    const count = unquoted.split(sep).length - 1;
    if (count > bestCount) [best, bestCount] = [sep, count];
  }
  return best;
}

/** A value as shown in a one-line error: quoted, at most 40 characters. */
export function shortText(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 40 ? `${s.slice(0, 37)}..."` : s;
}

/** Column names for an error line: the first ten, then how many more. */
export function listColumns(columns: readonly string[]): string {
  const shown = columns.slice(0, 10).map((c) => (c.length > 40 ? `${c.slice(0, 37)}...` : c));
  return columns.length > 10 ? `${shown.join(', ')}, ... (${columns.length - 10} more)` : shown.join(', ');
}

export function parseTypedCsv(text: string, file: string, options: TypedCsvOptions = {}): TypedTable {
  const sep = options.sep ?? detectSeparator(text);
  const na = options.naValues ?? new Set(PANDAS_NA_VALUES);
  const records = Papa.parse<string[]>(text, { delimiter: sep, skipEmptyLines: false }).data;
  let line = 1;
  let header: string[] | undefined;
  let headerLine = 0;
  const rows: string[][] = [];
  const lines: number[] = [];
  for (const record of records) {
    const at = line;
    // a record spans one line plus one per newline inside its quoted fields
    for (const cell of record) for (let i = cell.indexOf('\n'); i >= 0; i = cell.indexOf('\n', i + 1)) line++;
    line++;
    if (record.length === 1 && record[0]!.trim() === '') continue;
    if (!header) {
      header = record.map((c) => c.trim());
      headerLine = at;
      continue;
    }
    if (record.length !== header.length) throw fieldCountError(header.length, record.length, sep, file, at);
    rows.push(record);
    lines.push(at);
  }
  checkTable(header, rows.length, file, headerLine);
  const values = header.map((name, c) =>
    options.textColumns?.includes(name) ? rows.map((row) => row[c]!) : rows.map((row): Cell => typeCell(row[c]!, na)),
  );
  return { file, columns: header, values, lines, nRows: rows.length, sep };
}

/** A cell's typed value: null when missing (empty or in the NA list), a number when it is one, else its trimmed text. */
export function typeCell(cell: string, na: ReadonlySet<string>): Cell {
  const text = cell.trim();
  if (text === '' || na.has(text)) return null;
  return parseDecimal(text) ?? text;
}

export function fieldCountError(expected: number, found: number, sep: string, file: string, line: number): ConfigError {
  const hint = expected === 1 ? ` (separator ${JSON.stringify(sep)}; set it if the file uses another)` : '';
  return new ConfigError(`expected ${expected} fields as in the header, found ${found}${hint}`, { file, line });
}

/** A header and some rows below it, with no column name twice. */
export function checkTable(header: string[] | undefined, nRows: number, file: string, headerLine: number): asserts header is string[] {
  if (!header) throw new ConfigError('empty file', { file });
  if (nRows === 0) throw new ConfigError('no data rows below the header', { file });
  const seen = new Map<string, number>();
  header.forEach((name, c) => {
    const first = seen.get(name);
    if (first !== undefined) throw new ConfigError(`duplicate column name ${shortText(name)} (columns ${first + 1} and ${c + 1}); rename one`, { file, line: headerLine });
    seen.set(name, c);
  });
}

/** A computed number as a person reads it: 15 significant digits, so 0.8250000000000001 prints 0.825. */
export function formatNumber(value: number): string {
  // Whole numbers below 1e15 print the same either way, and most of a forest's probabilities are 0:
  // toPrecision is the slow part of writing millions of predictions.
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  return Number.isFinite(value) ? String(Number(value.toPrecision(15))) : String(value);
}
