import { ConfigError } from '../core/errors.js';
import { readText } from './files.js';

// Minimal RFC 4180 reading and writing for the prepared data sets and the reports (numbers and class
// labels; quotes only where a field needs them). Raw input goes through danfojs-node instead.

export interface CsvTable {
  readonly file: string;
  readonly header: string[];
  /** Data rows; row r sits on line r + 2 of the file. */
  readonly rows: string[][];
}

export function parseCsv(text: string, file: string): CsvTable {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') record.push(field), (field = '');
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      (record = []), (field = '');
    } else field += ch;
  }
  if (field !== '' || record.length) record.push(field), records.push(record);
  const [header, ...rows] = records.filter((r) => !(r.length === 1 && r[0] === ''));
  if (!header) throw new ConfigError('empty file (no header row)', { file });
  rows.forEach((r, i) => {
    if (r.length !== header.length) throw new ConfigError(`expected ${header.length} fields, found ${r.length}`, { file, line: i + 2 });
  });
  return { file, header, rows };
}

export function readCsvFile(path: string): CsvTable {
  const { file, text } = readText(path);
  return parseCsv(text, file);
}

function field(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header, ...rows].map((r) => r.map(field).join(',')).join('\n') + '\n';
}
