import { placeholders, type Dialect, type SqlValue } from '../sql/database.js';
import { parseFilter, type AttributeName, type Comparison, type DatasetKey, type FilterExpr } from './filter.js';
import { parseOrderBy } from './order-by.js';
import type { SearchRunsQuery } from './store.js';

// A run search as one SQL statement over MLflow's tables, with the folder store's semantics (the
// contract suite holds both to them): a run without the metric, param or tag never matches a clause
// on it; NaN satisfies only `!=`; LIKE is case-sensitive and ILIKE not; in either direction NaN sorts
// after every real value and runs without the value last; ties go to the newest start_time, then
// run id. Strings sort by code point, as the folder store sorts them (PostgreSQL: COLLATE "C").

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

function comparisonSql(c: Comparison, dialect: Dialect): Fragment {
  const { kind, key } = c.entity;
  if (kind === 'metric') {
    // NaN is stored as 0 with is_nan set: it differs from every number and compares with none.
    const value = c.op === '!=' ? '(m.is_nan = TRUE OR m.value != ?)' : `(m.is_nan = FALSE AND m.value ${c.op} ?)`;
    return { sql: `EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = ? AND ${value})`, params: [key, c.value as number] };
  }
  if (kind === 'param' || kind === 'tag') {
    const inner = stringCondition('k.value', c, dialect);
    return { sql: `EXISTS (SELECT 1 FROM ${KEY_TABLES[kind]} k WHERE k.run_uuid = r.run_uuid AND k.key = ? AND ${inner.sql})`, params: [key, ...inner.params] };
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

function filterSql(expr: FilterExpr, dialect: Dialect): Fragment {
  if (expr.type === 'compare') return comparisonSql(expr.compare, dialect);
  const parts = expr.items.map((item) => filterSql(item, dialect));
  return { sql: `(${parts.map((p) => p.sql).join(expr.type === 'and' ? ' AND ' : ' OR ')})`, params: parts.flatMap((p) => p.params) };
}

/** The statement selecting the runs of a search (RUN_COLUMNS), filtered, ordered and cut in SQL. */
export function searchRunsSql(query: SearchRunsQuery, dialect: Dialect): Fragment {
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
  if (filter) where.push(filterSql(filter, dialect));
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
