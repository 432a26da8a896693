import { readColumns } from '../core/csv-columns.js';

/** One CSV file as named columns of raw cells (numbers, strings; null when missing). */
export interface Table {
  readonly file: string;
  readonly columns: readonly string[];
  readonly values: ReadonlyMap<string, readonly unknown[]>;
  /** The file line of each data row, for errors. */
  readonly lines?: readonly number[];
}

/**
 * Reads a CSV as the ML stages read raw data (core/csv's pandas-like typing: separator detected,
 * pandas' NA texts missing, every decimal number a number), so a column drifts on the same values
 * the model sees. Columns sit in a Map: a column named `constructor` or `__proto__` is just a name.
 */
export async function readTable(file: string, shownAs = file): Promise<Table> {
  // read in chunks (a reference sample may be larger than a string can hold), then one array per column
  const table = readColumns(file, {}, shownAs);
  return { file: shownAs, columns: table.columns, values: new Map(table.columns.map((c, i) => [c, table.cells(i)])), lines: Array.from(table.lines) };
}
