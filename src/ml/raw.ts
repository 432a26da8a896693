import { displayPath } from '../core/display.js';
import { ConfigError } from '../core/errors.js';
import { readText } from '../core/files.js';

// Raw input data (the stage's input CSV, or rows to predict) read with danfojs-node, which types each
// cell (numbers as numbers) and gives null for an empty one. danfojs-node takes ~1.2 s to import, so
// only the commands that read raw data load it. The file is read by danfo alone; only when it fails is
// the text read here, to say why.

export type Cell = string | number | null;

export interface RawTable {
  readonly file: string;
  readonly columns: string[];
  /** values[c][r]: column-major, as danfo gives them. */
  readonly values: Cell[][];
  readonly nRows: number;
}

export function isMissing(v: Cell | undefined): v is null | undefined {
  return v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v));
}

export async function readRawCsv(path: string): Promise<RawTable> {
  const { readCSV } = (await import('danfojs-node')) as unknown as {
    readCSV(path: string, options?: object): Promise<{ columns: string[]; shape: number[]; [column: string]: unknown }>;
  };
  let frame;
  try {
    frame = await readCSV(path, { skipEmptyLines: true });
  } catch (error) {
    throw unreadable(path, error as Error);
  }
  const columns = frame.columns.map(String);
  const values = columns.map((c) => (frame[c] as { values: Cell[] }).values.map((v) => (typeof v === 'string' ? v.trim() : v)));
  return { file: displayPath(path), columns, values, nRows: frame.shape[0]! };
}

/** Why danfo could not read the file, located (it says "No data found" for an empty file and a header alone). */
function unreadable(path: string, error: Error): ConfigError {
  const { file, text } = readText(path);
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '').length;
  if (lines === 0) return new ConfigError('empty file', { file });
  if (lines === 1) return new ConfigError('no data rows below the header', { file });
  return new ConfigError(`cannot parse as CSV: ${error.message}`, { file });
}
