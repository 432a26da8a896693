import { PANDAS_NA_VALUES, parseTypedCsv } from '../core/csv.js';
import type { Cell, RawTable } from '../ml/raw.js';
import type { Transform } from '../ml/transform.js';
import { badInput } from './errors.js';

// Request bodies -> the raw table `mlops predict` reads from a CSV, so the saved transform applies
// unchanged. Every format MLflow's scoring server takes, plus plain records for /predict. Columns are
// checked against the transform: a missing one, or one the model never saw, is a 400 naming it.

type Json = unknown;
const SOURCE = 'request';

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function cell(v: Json, row: number, field: string): Cell {
  if (v === null || typeof v === 'string') return v === null ? null : v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw badInput(`expected a number, a string or null, got ${JSON.stringify(v)}`, { row: row + 1, field });
}

/** Records (`[{"Age": 21, ...}, ...]`) as a table; columns are the union of the records' keys. */
export function fromRecords(records: Json): RawTable {
  const list = Array.isArray(records) ? records : [records];
  const columns: string[] = [];
  list.forEach((r, i) => {
    if (!isObject(r)) throw badInput('expected an object of column values', { row: i + 1 });
    for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  });
  const values = columns.map((c) => list.map((r, i) => cell((r as Record<string, Json>)[c] ?? null, i, c)));
  return { file: SOURCE, columns, values, nRows: list.length };
}

/** pandas' split orientation: `{"columns": [...], "data": [[...], ...]}`. */
export function fromSplit(split: Json): RawTable {
  if (!isObject(split) || !Array.isArray(split.columns) || !Array.isArray(split.data)) throw badInput('dataframe_split needs "columns" (a list of names) and "data" (a list of rows)');
  const columns = split.columns.map(String);
  const data = split.data;
  data.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== columns.length) throw badInput(`expected a list of ${columns.length} values (one per column)`, { row: i + 1 });
  });
  const values = columns.map((c, j) => data.map((row, i) => cell((row as Json[])[j], i, c)));
  return { file: SOURCE, columns, values, nRows: data.length };
}

/** Column-oriented: `{"Age": [21, 30], ...}` (MLflow's `inputs` as a dict of columns). */
export function fromColumns(columns: Record<string, Json>): RawTable {
  const names = Object.keys(columns);
  const lists = names.map((n) => (Array.isArray(columns[n]) ? (columns[n] as Json[]) : [columns[n]]));
  const nRows = lists[0]?.length ?? 0;
  lists.forEach((l, j) => {
    if (l.length !== nRows) throw badInput(`has ${l.length} values where the first column has ${nRows}`, { field: names[j] });
  });
  return { file: SOURCE, columns: names, values: lists.map((l, j) => l.map((v, i) => cell(v, i, names[j]!))), nRows };
}

/**
 * A text/csv body, read as `mlops predict` reads a file: pandas' conventions, and the cells the
 * model's prepare stage read as missing (its na_values, kept in the transform) are missing here too.
 * A CSV error names line L, which is request row L - 1 (httpError turns it into the row).
 */
export const fromCsv =
  (text: string) =>
  (transform: Transform, keyColumn?: string): RawTable => {
    if (text.trim() === '') throw badInput('empty batch: no rows to predict');
    // The client's key as written: 007 stays 007, as `mlops predict --id-column` keeps it.
    return parseTypedCsv(text, SOURCE, { naValues: new Set(transform.na_values ?? PANDAS_NA_VALUES), textColumns: keyColumn === undefined ? [] : [keyColumn] });
  };

/**
 * A table the transform can take: not empty, and no column the model does not know (the target
 * column is ignored, as `mlops predict` ignores it). Missing columns and bad values are found by the
 * transform itself, located by row and field. With a key column (`serve --id-column`), every row
 * must carry its key: it is logged with the row (and never given to the model, which reads its
 * columns by name).
 */
export function checkTable(table: RawTable, transform: Transform, keyColumn?: string): RawTable {
  if (table.nRows === 0) throw badInput('empty batch: no rows to predict');
  const known = knownColumns(transform);
  const extra = table.columns.filter((c) => !known.has(c) && c !== transform.target && c !== keyColumn);
  if (extra.length > 0) throw badInput(`unknown column (the model was trained on ${[...known].join(', ')})`, { field: extra[0] });
  const missing = transform.columns.find((c) => !table.columns.includes(c.name));
  if (missing) throw badInput('column missing (the model was trained with it)', { field: missing.name });
  if (keyColumn !== undefined) {
    const keys = table.values[table.columns.indexOf(keyColumn)];
    if (keys === undefined) throw badInput('key column missing (this server logs every row under its key: serve --id-column)', { field: keyColumn });
    const empty = keys.findIndex((k) => k === null || k === '');
    if (empty >= 0) throw badInput('empty key (this server logs every row under its key: serve --id-column)', { row: empty + 1, field: keyColumn });
  }
  return table;
}

// The columns a transform takes, as a set: made once per model, not once per request.
const knownSets = new WeakMap<Transform, ReadonlySet<string>>();
function knownColumns(transform: Transform): ReadonlySet<string> {
  let known = knownSets.get(transform);
  if (!known) knownSets.set(transform, (known = new Set(transform.columns.map((c) => c.name))));
  return known;
}

/** Per categorical column, how many values the transform never saw in training (encoded as unseen). */
export function unseenCategories(table: RawTable, transform: Transform): Map<string, number> {
  const counts = new Map<string, number>();
  for (const col of transform.columns) {
    if (col.kind !== 'categorical') continue;
    const values = table.values[table.columns.indexOf(col.name)]!;
    let n = 0;
    for (const v of values) if (v !== null && v !== '' && !col.categories.includes(String(v))) n++;
    if (n > 0) counts.set(col.name, n);
  }
  return counts;
}
