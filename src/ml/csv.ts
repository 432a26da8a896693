import { parseRows } from '../core/csv.js';
import { ConfigError } from '../core/errors.js';
import { readText } from '../core/files.js';

// Reading (papaparse) of the prepared data sets (numbers and class labels, or target values). Raw input
// goes through raw.ts instead.

export interface CsvTable {
  readonly file: string;
  readonly header: string[];
  /** Data rows; row r sits on line r + 2 of the file. */
  readonly rows: string[][];
}

function parseCsv(text: string, file: string): CsvTable {
  const records = parseRows(text);
  const [header, ...rows] = records;
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
