import { parseTypedCsv, type Cell, type TypedCsvOptions, type TypedTable } from '../core/csv.js';
import { readText } from '../core/files.js';

// Raw input data (the stage's input CSV, or rows to predict): numbers as numbers, missing cells as
// null, by core/csv's pandas-like reader (papaparse underneath; danfojs-node is not imported, it costs
// over a second and stores columns as properties, so a column named `constructor` broke it). prepare
// reads large files with core/csv-columns.ts instead; both are seen through CellTable.

export type { Cell };
export type RawTable = Omit<TypedTable, 'sep' | 'lines'> & { readonly lines?: readonly number[] };

/** Cell-by-cell access to a raw table, whether it holds arrays of cells or typed columns. */
export interface CellTable {
  readonly file: string;
  readonly columns: string[];
  readonly nRows: number;
  cell(c: number, r: number): Cell;
  /** The file line of data row r. */
  line(r: number): number;
}

export function cellTable(table: RawTable | CellTable): CellTable {
  if (!('values' in table)) return table;
  const { file, columns, nRows, values } = table;
  return { file, columns, nRows, cell: (c, r) => values[c]![r] ?? null, line: (r) => lineOf(table, r) };
}

export function isMissing(v: Cell | undefined): v is null | undefined {
  return v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v));
}

/** The file line of data row `r` (rows start on line 2 unless the reader said otherwise). */
export function lineOf(table: RawTable, r: number): number {
  return table.lines?.[r] ?? r + 2;
}

export function readRawCsv(path: string, options: TypedCsvOptions = {}): TypedTable {
  const { file, text } = readText(path);
  return parseTypedCsv(text, file, options);
}
