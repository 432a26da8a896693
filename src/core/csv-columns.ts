import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { checkTable, detectSeparator, fieldCountError, PANDAS_NA_VALUES, typeCell, type Cell, type TypedCsvOptions } from './csv.js';
import { displayPath } from './display.js';
import { ConfigError } from './errors.js';

// The typed reader of csv.ts for large files: the file is read in 4 MB chunks and each record goes
// straight into typed columns (a Float64Array of numbers per column, text cells as codes into a
// per-column dictionary), so memory holds the columns and one chunk, never the text of the whole file
// nor an object per cell. Same conventions as parseTypedCsv (separator detection, NA list, decimal
// numbers of any size, trimmed cells, located errors), and papaparse's quoting and line endings.

const CHUNK = 4 << 20;
const QUOTE = 34;

/** One column: numbers, or text cells coded into `dict`. */
export interface TypedColumn {
  /** The numbers; NaN where the cell is missing or text. */
  readonly num: Float64Array;
  /** 1 + the index in `dict` of a text cell, 0 where the cell is a number or missing; null when no cell is text. */
  readonly text: Int32Array | null;
  readonly dict: readonly string[];
}

export class ColumnTable {
  constructor(
    readonly file: string,
    readonly columns: string[],
    readonly data: TypedColumn[],
    /** The file line each data row starts on. */
    readonly lines: Int32Array,
    readonly nRows: number,
    readonly sep: string,
  ) {}

  cell(c: number, r: number): Cell {
    const col = this.data[c]!;
    const v = col.num[r]!;
    if (v === v) return v;
    const code = col.text === null ? 0 : col.text[r]!;
    return code === 0 ? null : col.dict[code - 1]!;
  }

  line(r: number): number {
    return this.lines[r]!;
  }

  /** Column c as an array of cells (a plain array of doubles when every cell is a number). */
  cells(c: number): Cell[] {
    const { num, text } = this.data[c]!;
    if (text === null && !num.some((v) => v !== v)) return Array.from(num);
    return Array.from({ length: this.nRows }, (_, r) => this.cell(c, r));
  }
}

/** papaparse's guess: \r\n when most \r (outside quotes, first MB) are followed by \n, \r when \r comes first, else \n. */
function guessNewline(text: string): string {
  const head = text.slice(0, 1 << 20).replace(/"[^]*?"/g, '');
  const r = head.split('\r');
  const n = head.split('\n');
  if (r.length === 1 || (n.length > 1 && n[0]!.length < r[0]!.length)) return '\n';
  const withN = r.filter((part) => part[0] === '\n').length;
  return withN >= r.length / 2 ? '\r\n' : '\r';
}

function count(text: string, char: string): number {
  let n = 0;
  for (let i = text.indexOf(char); i >= 0; i = text.indexOf(char, i + 1)) n++;
  return n;
}

class ColumnBuilder {
  num: Float64Array;
  text: Int32Array | null = null;
  readonly dict: string[] = [];
  readonly codes = new Map<string, number>();

  constructor(capacity: number) {
    this.num = new Float64Array(capacity);
  }

  grow(capacity: number): void {
    const num = new Float64Array(capacity);
    num.set(this.num);
    this.num = num;
    if (this.text) {
      const text = new Int32Array(capacity);
      text.set(this.text);
      this.text = text;
    }
  }

  set(r: number, value: Cell): void {
    if (typeof value === 'number') {
      this.num[r] = value;
      return;
    }
    this.num[r] = NaN;
    if (value === null) return;
    let code = this.codes.get(value);
    if (code === undefined) {
      this.dict.push(value);
      code = this.dict.length;
      this.codes.set(value, code);
    }
    this.text ??= new Int32Array(this.num.length);
    this.text[r] = code;
  }
}

class Reader {
  private sep = '';
  private newline = '';
  private line = 1;
  private header: string[] | undefined;
  private headerLine = 0;
  private columns: ColumnBuilder[] = [];
  /** Per column: kept as its text (options.textColumns). */
  private text: boolean[] = [];
  private lines: Int32Array;
  private nRows = 0;
  private headerEnd = 0;
  /** Characters of the file parsed in the chunks before this one. */
  private charsBefore = 0;
  private readonly na: ReadonlySet<string>;

  constructor(
    private readonly file: string,
    private readonly options: TypedCsvOptions,
    private readonly fileSize: number,
  ) {
    this.na = options.naValues ?? new Set(PANDAS_NA_VALUES);
    this.lines = new Int32Array(0);
  }

  /** Parses the complete records of `text` (all of it when `final`); returns how much it used. */
  parse(text: string, final: boolean): number {
    let i = 0;
    if (!this.newline) {
      this.sep = this.options.sep ?? detectSeparator(text);
      this.newline = guessNewline(text);
      if (text.charCodeAt(0) === 0xfeff) i = 1; // a byte order mark, dropped as papaparse does
    }
    const { sep, newline } = this;
    const len = text.length;
    let quote = text.indexOf('"', i);
    while (i < len) {
      let end = text.indexOf(newline, i);
      if (end < 0) {
        if (!final) break;
        end = len;
      }
      if (quote >= 0 && quote < i) quote = text.indexOf('"', i);
      let fields: string[];
      let next: number;
      let newlines = 0;
      if (quote < 0 || quote >= end) {
        const record = text.slice(i, end);
        fields = record.split(sep);
        if (newline !== '\n') newlines = count(record, '\n');
        next = end + newline.length;
      } else {
        const quoted = this.quotedRecord(text, i, final);
        if (!quoted) break;
        [fields, next] = quoted;
        for (const f of fields) newlines += count(f, '\n');
      }
      this.record(fields, this.line, this.charsBefore + next);
      this.line += 1 + newlines;
      i = next;
    }
    const used = Math.min(i, len);
    this.charsBefore += used;
    return used;
  }

  /** A record with quoted fields starting at `i`: its fields and where the next record starts, or undefined when it runs past the text. */
  private quotedRecord(text: string, i: number, final: boolean): [string[], number] | undefined {
    const { sep, newline } = this;
    const len = text.length;
    const fields: string[] = [];
    let at = i;
    for (;;) {
      if (text.charCodeAt(at) === QUOTE) {
        // a quoted field ends at a quote followed (after blanks) by the separator, the line end or the end
        // of the file; "" is a quote, and a stray quote elsewhere stays in the field, as papaparse does
        const from = at + 1;
        let search = from;
        for (;;) {
          const q = text.indexOf('"', search);
          if (q < 0) {
            if (!final) return undefined;
            fields.push(text.slice(from).replace(/""/g, '"'));
            return [fields, len];
          }
          if (text.charCodeAt(q + 1) === QUOTE) {
            search = q + 2;
            continue;
          }
          let k = q + 1;
          while (k < len && (text[k] === ' ' || text[k] === '\t') && !text.startsWith(sep, k)) k++;
          if (k >= len && !final) return undefined;
          const atSep = text.startsWith(sep, k);
          if (k >= len || atSep || text.startsWith(newline, k)) {
            fields.push(text.slice(from, q).replace(/""/g, '"'));
            if (!atSep) return [fields, Math.min(len, k + newline.length)];
            at = k + sep.length;
            break;
          }
          search = q + 1;
        }
        continue;
      }
      const nextSep = text.indexOf(sep, at);
      let end = text.indexOf(newline, at);
      if (end < 0) {
        if (!final) return undefined;
        end = len;
      }
      if (nextSep >= 0 && nextSep < end) {
        fields.push(text.slice(at, nextSep));
        at = nextSep + sep.length;
        continue;
      }
      fields.push(text.slice(at, end));
      return [fields, end + newline.length];
    }
  }

  /** `end`: how many characters of the file the rows so far take up (to size the columns). */
  private record(fields: string[], line: number, end: number): void {
    if (fields.length === 1 && fields[0]!.trim() === '') return;
    if (!this.header) {
      this.header = fields.map((f) => f.trim());
      this.headerLine = line;
      this.headerEnd = end;
      const capacity = 1024;
      this.columns = this.header.map(() => new ColumnBuilder(capacity));
      this.text = this.header.map((name) => this.options.textColumns?.includes(name) ?? false);
      this.lines = new Int32Array(capacity);
      return;
    }
    if (fields.length !== this.header.length) throw fieldCountError(this.header.length, fields.length, this.sep, this.file, line);
    const r = this.nRows++;
    if (r === this.lines.length) {
      // the rows the file holds, estimated from the characters per row so far (one byte each, mostly),
      // else half as many again
      const perRow = (end - this.headerEnd) / r;
      const capacity = Math.max(Math.ceil(r * 1.5), Math.ceil(((this.fileSize - this.headerEnd) / perRow) * 1.02));
      for (const col of this.columns) col.grow(capacity);
      const lines = new Int32Array(capacity);
      lines.set(this.lines);
      this.lines = lines;
    }
    this.lines[r] = line;
    const { columns, na, text } = this;
    for (let c = 0; c < fields.length; c++) columns[c]!.set(r, text[c] ? fields[c]! : typeCell(fields[c]!, na));
  }

  finish(): ColumnTable {
    const { header, nRows } = this;
    checkTable(header, nRows, this.file, this.headerLine);
    const data = this.columns.map((col) => ({ num: col.num.subarray(0, nRows), text: col.text?.subarray(0, nRows) ?? null, dict: col.dict }));
    return new ColumnTable(this.file, header, data, this.lines.subarray(0, nRows), nRows, this.sep);
  }
}

/** Reads a CSV file into typed columns, chunk by chunk (see the top of this file). */
export function readColumns(path: string, options: TypedCsvOptions = {}, file = displayPath(path)): ColumnTable {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? 'file not found' : `cannot read (${code})`, { file });
  }
  try {
    const reader = new Reader(file, options, fstatSync(fd).size);
    const decoder = new StringDecoder('utf8');
    const bytes = Buffer.allocUnsafe(CHUNK);
    let text = '';
    for (;;) {
      const n = readSync(fd, bytes, 0, CHUNK, null);
      text += n > 0 ? decoder.write(bytes.subarray(0, n)) : decoder.end();
      const used = reader.parse(text, n === 0);
      text = text.slice(used);
      if (n === 0) break;
    }
    return reader.finish();
  } finally {
    closeSync(fd);
  }
}
