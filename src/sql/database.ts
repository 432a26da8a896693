// One small interface over the SQL databases the stores keep their data in (SQLite embedded,
// PostgreSQL for a team): statements are written once with `?` placeholders and run on either.

export type Dialect = 'sqlite' | 'postgresql';
/** A bound value: booleans become 0/1 on SQLite, which has no boolean type. */
export type SqlValue = string | number | bigint | boolean | null | Buffer;
export type Row = Record<string, unknown>;

/** What runs statements: the database itself, or one transaction on it. */
export interface Queryable {
  readonly dialect: Dialect;
  /** The rows a statement returns (a SELECT, or a change with RETURNING). */
  query<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The rows of a SELECT as arrays of values in its columns' order: no object per row, for long reads. */
  values(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface Database extends Queryable {
  /** The URI as given; may hold a password: never show it. */
  readonly uri: string;
  /** The URI for messages: the password left out. */
  readonly shown: string;
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws. A
   * transaction that lost a race (SQLite busy, a PostgreSQL deadlock or serialization failure) is
   * run again from the start, so `work` must do nothing but its statements (no other side effects).
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * `?` placeholders as PostgreSQL's `$1, $2, ...`. Question marks inside quoted strings or
 * identifiers are text, not placeholders.
 */
export function numberedPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else {
      out += ch === '?' ? `$${++n}` : ch;
    }
  }
  return out;
}

/** A comma-separated list of `count` placeholders, for `IN (...)` and multi-row VALUES. */
export const placeholders = (count: number): string => Array.from({ length: count }, () => '?').join(', ');

/** Waits `ms`, a little more or less, so racing processes do not retry in step. */
export const backoff = (attempt: number, baseMs = 10, maxMs = 1000): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.min(maxMs, baseMs * 2 ** attempt) * (0.5 + Math.random())));
