import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import type { PredictionSink } from './batched.js';
import type { PredictionQuery, PredictionReader } from './reader.js';
import type { PredictionRecord } from './record.js';
import { COLUMNS, fromRow, selectRows, toRow, whereClause, type PredictionRow } from './sql.js';

// The prediction log in one SQLite file (the default, `.mlops/predictions.db`). WAL mode, so readers
// (`mlops predictions`, monitoring) never block the server and several server processes can append:
// each waits a short while for another's write lock (the busy timeout, kept short because
// better-sqlite3 waits on the event loop's thread); a batch still refused is retried at the next tick.

const SCHEMA = `
CREATE TABLE IF NOT EXISTS predictions (
  id INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  time TEXT NOT NULL,
  model TEXT NOT NULL,
  version INTEGER,
  input TEXT NOT NULL,
  class TEXT,
  value REAL,
  probabilities TEXT,
  latency_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS predictions_time ON predictions (time);
CREATE INDEX IF NOT EXISTS predictions_model_time ON predictions (model, time);
CREATE INDEX IF NOT EXISTS predictions_request ON predictions (request_id);
`;

const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED']);
const param = () => '?';
const iso = (d: Date) => d.toISOString();

export class SqlitePredictionStore implements PredictionSink, PredictionReader {
  private readonly insert?: Statement;

  private constructor(private readonly db: Database | undefined) {
    if (db && !db.readonly) this.insert = db.prepare(`INSERT INTO predictions (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
  }

  /** For writing: creates the file and the table when missing. */
  static async openWriter(path: string, busyTimeoutMs = 5): Promise<SqlitePredictionStore> {
    const { default: Sqlite } = await import('better-sqlite3');
    mkdirSync(dirname(path), { recursive: true });
    const db = new Sqlite(path);
    // Setting up waits longer than a batch would: every worker of a server opens at once.
    db.pragma('busy_timeout = 10000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    return new SqlitePredictionStore(db);
  }

  /** For reading: a log never written reads as empty (and no file is made). */
  static async openReader(path: string): Promise<SqlitePredictionStore> {
    if (!existsSync(path)) return new SqlitePredictionStore(undefined);
    const { default: Sqlite } = await import('better-sqlite3');
    const db = new Sqlite(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 10000');
    return new SqlitePredictionStore(db);
  }

  async write(batch: readonly PredictionRecord[]): Promise<void> {
    const insert = this.insert!;
    this.db!.transaction(() => {
      for (const r of batch) insert.run(toRow(r));
    }).immediate();
  }

  async prune(before: Date): Promise<number> {
    return this.db!.prepare('DELETE FROM predictions WHERE time < ?').run(iso(before)).changes;
  }

  transient(error: unknown): boolean {
    return BUSY.has((error as { code?: string }).code ?? '');
  }

  async *rows(query: PredictionQuery): AsyncIterable<PredictionRecord> {
    if (!this.db) return;
    const { sql, params } = selectRows(query, param, iso);
    for (const row of this.db.prepare(sql).iterate(...params)) yield fromRow(row as PredictionRow);
  }

  async count(query: PredictionQuery): Promise<number> {
    if (!this.db) return 0;
    const { sql, params } = whereClause(query, param, iso);
    return (this.db.prepare(`SELECT count(*) AS n FROM predictions ${sql}`).get(...params) as { n: number }).n;
  }

  async close(): Promise<void> {
    this.db?.close();
  }
}
