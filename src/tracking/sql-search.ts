import { placeholders, type Dialect, type SqlValue } from '../sql/database.js';
import { parseFilter, type AttributeName, type Comparison, type DatasetKey, type FilterExpr } from './filter.js';
import { parseOrderBy } from './order-by.js';
import type { SearchRunsQuery } from './store.js';

// A run search as one SQL statement over MLflow's tables, with the folder store's semantics (the
// contract suite holds both to them): a run without the metric, param or tag never matches a clause
// on it; NaN satisfies only `!=`; LIKE is case-sensitive and ILIKE not; in either direction NaN sorts
// after every real value and runs without the value last; ties go to the newest start_time, then
// run id. Strings sort by code point, as the folder store sorts them (PostgreSQL: COLLATE "C").
//
// A clause on a metric, param or tag is `run_uuid IN (the runs whose row matches)`, not a correlated
// EXISTS per run: the database reads the key's rows once and meets the runs by primary key, instead of
// one index probe per run of the experiments (100,000 runs: 4 times less work on SQLite). PostgreSQL
// plans those rows from its statistics. SQLite has none worth the name (MLflow's tables have only the
// (key, run_uuid) primary keys, without the value), and always reads a key through the index, then
// the table row for its value; when the key is on a large share of the rows (a metric every run
// logs), reading the whole table in order is cheaper, and `scanned` names those keys (see
// SqlTrackingStore.searchRuns) so the statement tells SQLite so (`+key`: no index).

export const RUN_COLUMNS = 'r.run_uuid, r.name, r.experiment_id, r.user_id, r.status, r.start_time, r.end_time, r.lifecycle_stage, r.artifact_uri';

const ATTRIBUTE_COLUMNS: Readonly<Record<AttributeName, string>> = {
  run_id: 'r.run_uuid',
  run_name: 'r.name',
  status: 'r.status',
  user_id: 'r.user_id',
  artifact_uri: 'r.artifact_uri',
  start_time: 'r.start_time',
  end_time: 'r.end_time',
};

const KEY_TABLES = { metric: 'latest_metrics', param: 'params', tag: 'tags' } as const;
const DATASET_CONTEXT_TAG = 'mlflow.data.context';
// An experiment id in the database is a 32-bit integer; any other id names no experiment there.
const MAX_INT32 = 2 ** 31 - 1;

/** An SQL fragment and the values of its placeholders, in order. */
interface Fragment {
  sql: string;
  params: SqlValue[];
}

/** The experiment ids a database can hold, as numbers. */
export function sqlExperimentIds(ids: readonly string[]): number[] {
  return ids.filter((id) => /^\d{1,10}$/.test(id) && Number(id) <= MAX_INT32).map(Number);
}

/** SQL LIKE as SQLite GLOB, which is case-sensitive: `%` -> `*`, `_` -> `?`, GLOB's own specials bracketed. */
function likeToGlob(pattern: string): string {
  return [...pattern].map((c) => (c === '%' ? '*' : c === '_' ? '?' : c === '*' || c === '?' || c === '[' ? `[${c}]` : c)).join('');
}

function stringCondition(column: string, c: Comparison, dialect: Dialect): Fragment {
  switch (c.op) {
    case 'LIKE':
      return dialect === 'sqlite' ? { sql: `${column} GLOB ?`, params: [likeToGlob(c.value)] } : { sql: `${column} LIKE ? ESCAPE ''`, params: [c.value] };
    case 'ILIKE':
      return dialect === 'sqlite'
        ? { sql: `lower(${column}) GLOB ?`, params: [likeToGlob(c.value.toLowerCase())] }
        : { sql: `${column} ILIKE ? ESCAPE ''`, params: [c.value] };
    case 'IN':
    case 'NOT IN':
      return { sql: `${column} ${c.op} (${placeholders(c.value.length)})`, params: c.value };
    default:
      return { sql: `${column} ${c.op} ?`, params: [c.value as string | number] };
  }
}

/** A metric, param or tag key a filter compares: what `scanned` is asked about. */
export interface KeyedEntity {
  readonly kind: keyof typeof KEY_TABLES;
  readonly key: string;
}

/** The table holding a metric's, param's or tag's rows (latest_metrics for metrics). */
export const keyTable = (kind: KeyedEntity['kind']): string => KEY_TABLES[kind];

/** The metric, param and tag keys the query's filter compares, each once. */
export function filteredKeys(query: SearchRunsQuery): KeyedEntity[] {
  const seen = new Map<string, KeyedEntity>();
  const walk = (expr: FilterExpr | undefined): void => {
    if (!expr) return;
    if (expr.type !== 'compare') return expr.items.forEach(walk);
    const { kind, key } = expr.compare.entity;
    if (kind === 'metric' || kind === 'param' || kind === 'tag') seen.set(`${kind}\0${key}`, { kind, key });
  };
  walk(parseFilter(query.filter ?? ''));
  return [...seen.values()];
}

type Scanned = (entity: KeyedEntity) => boolean;

function comparisonSql(c: Comparison, dialect: Dialect, scanned: Scanned): Fragment {
  const { kind, key } = c.entity;
  if (kind === 'metric' || kind === 'param' || kind === 'tag') {
    const keyColumn = scanned({ kind, key }) ? '+k.key' : 'k.key';
    // NaN is stored as 0 with is_nan set: it differs from every number and compares with none.
    const value =
      kind !== 'metric' ? stringCondition('k.value', c, dialect)
      : { sql: c.op === '!=' ? '(k.is_nan = TRUE OR k.value != ?)' : `(k.is_nan = FALSE AND k.value ${c.op} ?)`, params: [c.value as number] };
    return { sql: `r.run_uuid IN (SELECT k.run_uuid FROM ${KEY_TABLES[kind]} k WHERE ${keyColumn} = ? AND ${value.sql})`, params: [key, ...value.params] };
  }
  if (kind === 'dataset') {
    const context = (key as DatasetKey) === 'context';
    const inner = stringCondition(context ? 't.value' : `d.${key}`, c, dialect);
    const join = context ? ` JOIN input_tags t ON t.input_uuid = i.input_uuid AND t.name = '${DATASET_CONTEXT_TAG}'` : '';
    return {
      sql: `EXISTS (SELECT 1 FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id${join} WHERE i.destination_type = 'RUN' AND i.destination_id = r.run_uuid AND i.source_type = 'DATASET' AND ${inner.sql})`,
      params: inner.params,
    };
  }
  const column = ATTRIBUTE_COLUMNS[key as AttributeName];
  const inner = stringCondition(column, c, dialect);
  return { sql: `(${column} IS NOT NULL AND ${inner.sql})`, params: inner.params };
}

function filterSql(expr: FilterExpr, dialect: Dialect, scanned: Scanned): Fragment {
  if (expr.type === 'compare') return comparisonSql(expr.compare, dialect, scanned);
  const parts = expr.items.map((item) => filterSql(item, dialect, scanned));
  return { sql: `(${parts.map((p) => p.sql).join(expr.type === 'and' ? ' AND ' : ' OR ')})`, params: parts.flatMap((p) => p.params) };
}

/**
 * The statement selecting the runs of a search (RUN_COLUMNS), filtered, ordered and cut in SQL;
 * `scanned`: the filtered keys whose whole table SQLite is to read rather than its index.
 */
export function searchRunsSql(query: SearchRunsQuery, dialect: Dialect, scanned: Scanned = () => false): Fragment {
  const filter = parseFilter(query.filter ?? '');
  const order = parseOrderBy(query.orderBy ?? []);
  const text = (column: string) => (dialect === 'postgresql' ? `${column} COLLATE "C"` : column);
  const joins: Fragment[] = [];
  const orderBy: string[] = [];
  for (const [i, { entity, ascending }] of order.entries()) {
    const direction = ascending ? 'ASC' : 'DESC';
    if (entity.kind === 'attribute') {
      const column = ATTRIBUTE_COLUMNS[entity.key as AttributeName];
      const numeric = entity.key === 'start_time' || entity.key === 'end_time';
      orderBy.push(`CASE WHEN ${column} IS NULL THEN 1 ELSE 0 END`, `${numeric ? column : text(column)} ${direction}`);
      continue;
    }
    const alias = `o${i}`;
    const table = KEY_TABLES[entity.kind as keyof typeof KEY_TABLES];
    joins.push({ sql: `LEFT JOIN ${table} ${alias} ON ${alias}.run_uuid = r.run_uuid AND ${alias}.key = ?`, params: [entity.key] });
    if (entity.kind === 'metric') {
      orderBy.push(`CASE WHEN ${alias}.run_uuid IS NULL THEN 2 WHEN ${alias}.is_nan = TRUE THEN 1 ELSE 0 END`, `${alias}.value ${direction}`);
    } else {
      orderBy.push(`CASE WHEN ${alias}.value IS NULL THEN 1 ELSE 0 END`, `${text(`${alias}.value`)} ${direction}`);
    }
  }
  orderBy.push('r.start_time DESC', text('r.run_uuid'));
  const ids = sqlExperimentIds(query.experimentIds);
  const where: Fragment[] = [{ sql: ids.length ? `r.experiment_id IN (${placeholders(ids.length)})` : '1 = 0', params: ids }];
  const view = query.view ?? 'active';
  if (view !== 'all') where.push({ sql: 'r.lifecycle_stage = ?', params: [view] });
  if (filter) where.push(filterSql(filter, dialect, scanned));
  const limit = query.maxResults !== undefined && Number.isFinite(query.maxResults) && query.maxResults < Number.MAX_SAFE_INTEGER ? query.maxResults : undefined;
  return {
    sql: [
      `SELECT ${RUN_COLUMNS} FROM runs r`,
      ...joins.map((j) => j.sql),
      `WHERE ${where.map((w) => w.sql).join(' AND ')}`,
      `ORDER BY ${orderBy.join(', ')}`,
      ...(limit === undefined ? [] : ['LIMIT ?']),
    ].join(' '),
    params: [...joins.flatMap((j) => j.params), ...where.flatMap((w) => w.params), ...(limit === undefined ? [] : [limit])],
  };
}
