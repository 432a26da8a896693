import type { PredictionQuery } from './reader.js';
import type { PredictionRecord } from './record.js';

// What the SQL prediction logs (SQLite, PostgreSQL) share: the table's columns, a query as a WHERE
// clause, and the conversion between a record and a row. Each backend supplies its placeholder
// syntax and how it passes a time.

/** The columns in insert order. `class` holds a classifier's answer, `value` a regressor's. */
export const COLUMNS = ['request_id', 'time', 'model', 'version', 'input', 'class', 'value', 'probabilities', 'latency_ms'] as const;

/** A row as both drivers return it (PostgreSQL's jsonb columns arrive parsed, SQLite's as text). */
export interface PredictionRow {
  request_id: string;
  time: string | Date;
  model: string;
  version: number | null;
  input: string | Record<string, string | number | null>;
  class: string | null;
  value: number | null;
  probabilities: string | Record<string, number> | null;
  latency_ms: number;
}

export function toRow(r: PredictionRecord): unknown[] {
  const isClass = typeof r.prediction === 'string';
  return [
    r.request_id,
    r.time,
    r.model.name,
    r.model.version ?? null,
    JSON.stringify(r.input),
    isClass ? r.prediction : null,
    isClass ? null : r.prediction,
    r.probabilities === undefined ? null : JSON.stringify(r.probabilities),
    r.latency_ms,
  ];
}

const json = <T>(v: string | T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

export function fromRow(row: PredictionRow): PredictionRecord {
  return {
    request_id: row.request_id,
    time: row.time instanceof Date ? row.time.toISOString() : row.time,
    model: row.version === null ? { name: row.model } : { name: row.model, version: Number(row.version) },
    input: json(row.input),
    prediction: row.class ?? Number(row.value),
    ...(row.probabilities === null ? {} : { probabilities: json(row.probabilities) }),
    latency_ms: Number(row.latency_ms),
  };
}

/**
 * `WHERE ...` (or '') for a query, with its parameters; `param(i)` writes the i-th placeholder
 * (1-based), `time` converts a bound on the time to what the driver compares with the column.
 */
export function whereClause(query: PredictionQuery, param: (i: number) => string, time: (d: Date) => unknown): { sql: string; params: unknown[] } {
  const terms: string[] = [];
  const params: unknown[] = [];
  const bind = (v: unknown) => (params.push(v), param(params.length));
  if (query.model !== undefined) terms.push(`model = ${bind(query.model)}`);
  if (query.versions !== undefined) terms.push(query.versions.length === 0 ? 'FALSE' : `version IN (${query.versions.map(bind).join(', ')})`);
  if (query.from !== undefined) terms.push(`time >= ${bind(time(query.from))}`);
  if (query.to !== undefined) terms.push(`time < ${bind(time(query.to))}`);
  return { sql: terms.length ? `WHERE ${terms.join(' AND ')}` : '', params };
}

/** The SELECT for `rows`: in time order (insertion order among equal times), optionally the newest `limit`. */
export function selectRows(query: PredictionQuery, param: (i: number) => string, time: (d: Date) => unknown): { sql: string; params: unknown[] } {
  const { sql: where, params } = whereClause(query, param, time);
  const cols = COLUMNS.join(', ');
  if (query.limit === undefined) return { sql: `SELECT ${cols} FROM predictions ${where} ORDER BY time, id`, params };
  params.push(query.limit);
  const limit = `LIMIT ${param(params.length)}`;
  if (!query.newest) return { sql: `SELECT ${cols} FROM predictions ${where} ORDER BY time, id ${limit}`, params };
  return { sql: `SELECT ${cols} FROM (SELECT id, ${cols} FROM predictions ${where} ORDER BY time DESC, id DESC ${limit}) newest ORDER BY time, id`, params };
}
