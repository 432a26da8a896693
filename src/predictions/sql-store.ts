import type { Database, SqlValue } from '../sql/database.js';
import { placeholders } from '../sql/database.js';
import type { PredictionSink } from './batched.js';
import type { LabelQuery, LabelRecord, LabelWriter } from './labels.js';
import type { LoggedInput, PredictionQuery, PredictionReader } from './reader.js';
import type { PredictionRecord } from './record.js';

// The prediction log as one table in a SQL database (src/sql/: SQLite by default, PostgreSQL for a
// team). Statements are written once; only the table's column types differ. A batch is one
// transaction of multi-row INSERTs; reads are pages in (time, id) order, so a reader streams a log of
// any size in bounded memory and never holds a lock the writers wait for.

/** The columns in insert order. `class` holds a classifier's answer, `value` a regressor's. */
const COLUMNS = ['request_id', 'time', 'model', 'version', 'input', 'class', 'value', 'probabilities', 'latency_ms'] as const;

// JSON (not JSONB) in PostgreSQL: it keeps the input's columns in the order the client sent them.
const SCHEMA = {
  sqlite: `CREATE TABLE IF NOT EXISTS predictions (
    id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, time TEXT NOT NULL, model TEXT NOT NULL, version INTEGER,
    input TEXT NOT NULL, class TEXT, value REAL, probabilities TEXT, latency_ms REAL NOT NULL)`,
  postgresql: `CREATE TABLE IF NOT EXISTS predictions (
    id BIGSERIAL PRIMARY KEY, request_id TEXT NOT NULL, time TIMESTAMPTZ NOT NULL, model TEXT NOT NULL, version INTEGER,
    input JSON NOT NULL, class TEXT, value DOUBLE PRECISION, probabilities JSON, latency_ms DOUBLE PRECISION NOT NULL)`,
};
const INDEXES = [
  'CREATE INDEX IF NOT EXISTS predictions_time ON predictions (time, id)',
  'CREATE INDEX IF NOT EXISTS predictions_model_time ON predictions (model, time, id)',
  'CREATE INDEX IF NOT EXISTS predictions_request ON predictions (request_id)',
  'CREATE INDEX IF NOT EXISTS labels_model_time ON labels (model, time)',
];
// The outcomes (labels.ts), one row per id; `time` and `model` are the labelled prediction's.
const LABELS_SCHEMA = {
  sqlite: `CREATE TABLE IF NOT EXISTS labels (
    id_column TEXT NOT NULL, id TEXT NOT NULL, label TEXT NOT NULL, model TEXT NOT NULL, time TEXT NOT NULL, PRIMARY KEY (id_column, id))`,
  postgresql: `CREATE TABLE IF NOT EXISTS labels (
    id_column TEXT NOT NULL, id TEXT NOT NULL, label TEXT NOT NULL, model TEXT NOT NULL, time TIMESTAMPTZ NOT NULL, PRIMARY KEY (id_column, id))`,
};
const LABEL_COLUMNS = ['id_column', 'id', 'label', 'model', 'time'] as const;
/** Ids per statement when looking up which labels exist already. */
const IDS_PER_LOOKUP = 500;
/** Rows per INSERT statement: 9 parameters each, under SQLite's 32,766 and PostgreSQL's 65,535. */
const ROWS_PER_INSERT = 500;
/** Rows per page read: large pages spend less per row on statements; 10,000 rows are a few MB. */
const PAGE = 10_000;

/**
 * A row as the drivers return it, as an array (no object per row on a long read) in READ's order;
 * PostgreSQL parses JSON columns and times, SQLite gives text.
 */
type PredictionRow = [
  id: number | string,
  request_id: string,
  time: string | Date,
  model: string,
  version: number | null,
  input: string | Record<string, string | number | null>,
  cls: string | null,
  value: number | null,
  latency_ms: number,
  probabilities?: string | Record<string, number> | null,
];
const READ = ['id', 'request_id', 'time', 'model', 'version', 'input', 'class', 'value', 'latency_ms', 'probabilities'];

function toRow(r: PredictionRecord): SqlValue[] {
  const isClass = typeof r.prediction === 'string';
  return [
    r.request_id, r.time, r.model.name, r.model.version ?? null, JSON.stringify(r.input),
    isClass ? (r.prediction as string) : null, isClass ? null : (r.prediction as number),
    r.probabilities === undefined ? null : JSON.stringify(r.probabilities), r.latency_ms,
  ];
}

const json = <T>(v: string | T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);
const timeText = (t: string | Date) => (t instanceof Date ? t.toISOString() : t);

function fromRow([, request_id, time, model, version, input, cls, value, latency, probabilities]: PredictionRow): PredictionRecord {
  return {
    request_id,
    time: timeText(time),
    model: version === null ? { name: model } : { name: model, version: Number(version) },
    input: json(input),
    prediction: cls ?? Number(value),
    ...(probabilities == null ? {} : { probabilities: json(probabilities) }),
    latency_ms: Number(latency),
  };
}

/** The query's conditions (ANDed) and their parameters; times are bound as ISO 8601 text. */
function conditions(query: PredictionQuery): { terms: string[]; params: SqlValue[] } {
  const terms: string[] = [];
  const params: SqlValue[] = [];
  if (query.model !== undefined) terms.push('model = ?'), params.push(query.model);
  if (query.versions !== undefined) {
    if (query.versions.length === 0) terms.push('1 = 0');
    else terms.push(`version IN (${placeholders(query.versions.length)})`), params.push(...query.versions);
  }
  if (query.from !== undefined) terms.push('time >= ?'), params.push(query.from.toISOString());
  if (query.to !== undefined) terms.push('time < ?'), params.push(query.to.toISOString());
  return { terms, params };
}

const where = (terms: readonly string[]) => (terms.length ? `WHERE ${terms.join(' AND ')}` : '');
const SELECT = `SELECT ${READ.join(', ')} FROM predictions`;
const SELECT_INPUTS = 'SELECT id, time, input FROM predictions';

export class SqlPredictionStore implements PredictionSink, PredictionReader, LabelWriter {
  constructor(private readonly db: Database) {}

  /** Creates the table and its indexes when missing (several workers may do it at once). */
  static async create(db: Database): Promise<SqlPredictionStore> {
    await db.transaction(async (tx) => {
      // PostgreSQL's CREATE ... IF NOT EXISTS races with itself; SQLite's BEGIN IMMEDIATE already serializes.
      if (tx.dialect === 'postgresql') await tx.query("SELECT pg_advisory_xact_lock(hashtext('mlops.predictions'))");
      await tx.run(SCHEMA[tx.dialect]);
      await tx.run(LABELS_SCHEMA[tx.dialect]);
      for (const index of INDEXES) await tx.run(index);
    });
    return new SqlPredictionStore(db);
  }

  async write(batch: readonly PredictionRecord[]): Promise<void> {
    const row = `(${placeholders(COLUMNS.length)})`;
    await this.db.transaction(async (tx) => {
      for (let i = 0; i < batch.length; i += ROWS_PER_INSERT) {
        const chunk = batch.slice(i, i + ROWS_PER_INSERT);
        await tx.run(`INSERT INTO predictions (${COLUMNS.join(', ')}) VALUES ${chunk.map(() => row).join(', ')}`, chunk.flatMap(toRow));
      }
    });
  }

  prune(before: Date): Promise<number> {
    return this.db.run('DELETE FROM predictions WHERE time < ?', [before.toISOString()]);
  }

  async *rows(query: PredictionQuery): AsyncIterable<PredictionRecord> {
    const { terms, params } = conditions(query);
    if (query.newest && query.limit !== undefined) {
      // The newest `limit` rows, in time order: one bounded query.
      const newest = await this.db.values(`${SELECT} ${where(terms)} ORDER BY time DESC, id DESC LIMIT ?`, [...params, query.limit]);
      for (const row of newest.reverse()) yield fromRow(row as PredictionRow);
      return;
    }
    for await (const row of this.pages(SELECT, 2, query)) yield fromRow(row as PredictionRow);
  }

  /** Only the time and the raw input of each row: what a drift check reads, and no more (a third of the reading). */
  async *inputs(query: PredictionQuery): AsyncIterable<LoggedInput> {
    for await (const [, time, input] of this.pages(SELECT_INPUTS, 1, query)) yield { time: timeText(time as string | Date), input: json(input as string | LoggedInput['input']) };
  }

  /** The rows of `select` (its first column the id, column `timeAt` the time) in (time, id) order, a page at a time. */
  private async *pages(select: string, timeAt: number, query: PredictionQuery): AsyncIterable<unknown[]> {
    const { terms, params } = conditions(query);
    let left = query.limit ?? Infinity;
    let after: unknown[] | undefined;
    while (left > 0) {
      const page = Math.min(PAGE, left);
      // Keyset pagination after the last row read. `time >= ?` on its own is what lets both databases
      // start the page in the (model, time, id) index: with only the OR, SQLite scanned each page from
      // the period's start again, so a long read cost the square of its pages.
      const keyset = after === undefined ? [] : ['time >= ?', '(time > ? OR id > ?)'];
      const last = after === undefined ? '' : timeText(after[timeAt] as string | Date);
      const keys = after === undefined ? [] : [last, last, Number(after[0])];
      const rows = await this.db.values(`${select} ${where([...terms, ...keyset])} ORDER BY time, id LIMIT ?`, [...params, ...keys, page]);
      yield* rows;
      if (rows.length < page) return;
      left -= rows.length;
      after = rows.at(-1);
    }
  }

  async count(query: PredictionQuery): Promise<number> {
    const { terms, params } = conditions(query);
    const [row] = await this.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM predictions ${where(terms)}`, params);
    return Number(row!.n);
  }

  async putLabels(labels: readonly LabelRecord[]): Promise<number> {
    const row = `(${placeholders(LABEL_COLUMNS.length)})`;
    return this.db.transaction(async (tx) => {
      let replaced = 0;
      for (let i = 0; i < labels.length; i += ROWS_PER_INSERT) {
        const chunk = labels.slice(i, i + ROWS_PER_INSERT);
        // Counted per id column and id: a file may mix none, but the key is the pair.
        for (let j = 0; j < chunk.length; j += IDS_PER_LOOKUP) {
          const part = chunk.slice(j, j + IDS_PER_LOOKUP);
          const pairs = part.map(() => '(id_column = ? AND id = ?)').join(' OR ');
          const [found] = await tx.query<{ n: number | string }>(`SELECT count(*) AS n FROM labels WHERE ${pairs}`, part.flatMap((l) => [l.id_column, l.id]));
          replaced += Number(found!.n);
        }
        await tx.run(
          `INSERT INTO labels (${LABEL_COLUMNS.join(', ')}) VALUES ${chunk.map(() => row).join(', ')}
           ON CONFLICT (id_column, id) DO UPDATE SET label = excluded.label, model = excluded.model, time = excluded.time`,
          chunk.flatMap((l) => LABEL_COLUMNS.map((c) => l[c])),
        );
      }
      return replaced;
    });
  }

  async labels(query: LabelQuery): Promise<LabelRecord[]> {
    const rows = await this.db.values(`SELECT ${LABEL_COLUMNS.join(', ')} FROM labels WHERE id_column = ? AND model = ? AND time >= ? AND time < ? ORDER BY time, id`, [
      query.idColumn, query.model, query.from.toISOString(), query.to.toISOString(),
    ]);
    return rows.map(([id_column, id, label, model, time]) => ({ id_column: id_column as string, id: id as string, label: label as string, model: model as string, time: timeText(time as string | Date) }));
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
