import { didYouMean } from '../core/errors.js';
import { filterError, tokenize, type Token } from './filter-lexer.js';

// MLflow's run search grammar, plus OR and parentheses (mlflow#6075): AND binds tighter than OR.
//   filter  := and (OR and)*        and := primary (AND primary)*
//   primary := '(' filter ')' | entity op value | entity [NOT] IN '(' string, ... ')'

export type EntityKind = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';
export const STRING_ATTRIBUTES = ['run_id', 'run_name', 'status', 'user_id', 'artifact_uri'] as const;
export const NUMERIC_ATTRIBUTES = ['start_time', 'end_time'] as const;
export type AttributeName = (typeof STRING_ATTRIBUTES)[number] | (typeof NUMERIC_ATTRIBUTES)[number];
/** What a run's datasets (MLflow's run inputs) are searched by: `datasets.name = 'train'`. */
export const DATASET_KEYS = ['name', 'digest', 'context'] as const;
export type DatasetKey = (typeof DATASET_KEYS)[number];
/** Other names MLflow accepts for attributes. */
const ATTRIBUTE_ALIASES: Readonly<Record<string, AttributeName>> = { created: 'start_time', Created: 'start_time' };

const PREFIXES: Record<string, EntityKind> = {
  metrics: 'metric', metric: 'metric',
  params: 'param', param: 'param', parameters: 'param', parameter: 'param',
  tags: 'tag', tag: 'tag',
  attributes: 'attribute', attribute: 'attribute', attr: 'attribute', run: 'attribute',
  datasets: 'dataset', dataset: 'dataset',
};

export interface Entity {
  kind: EntityKind;
  key: string;
}

export type Comparison =
  | { entity: Entity; op: '>' | '>=' | '=' | '!=' | '<' | '<='; value: number }
  | { entity: Entity; op: '=' | '!='; value: string }
  | { entity: Entity; op: 'LIKE' | 'ILIKE'; value: string; like: (text: string) => boolean }
  | { entity: Entity; op: 'IN' | 'NOT IN'; value: string[] };

export type FilterExpr = { type: 'and' | 'or'; items: FilterExpr[] } | { type: 'compare'; compare: Comparison };

/** What a filter reads from a run; the store answers lazily so a failed clause skips the other reads. */
export interface RunFields {
  metric(key: string): number | undefined;
  param(key: string): string | undefined;
  tag(key: string): string | undefined;
  attribute(name: AttributeName): string | number | null;
  /** One value per dataset the run used (none: the clause does not match). */
  datasets(key: DatasetKey): string[];
}

/**
 * Turns a token into an entity, with a hint when the prefix is misspelt. As in MLflow, a name without
 * a prefix is an attribute (`status = 'FINISHED'`, `run_name LIKE 'grid%'`), and `created` is start_time.
 */
export function toEntity(token: Token, subject = 'filter'): Entity {
  if (token.kind === 'word') {
    const attribute = attributeName(token.text);
    if (attribute) return { kind: 'attribute', key: attribute };
  }
  if (token.kind !== 'entity') throw filterError('expected metrics.<key>, params.<key>, tags.<key>, datasets.<key> or an attribute', token, subject);
  const kind = PREFIXES[token.value];
  if (!kind) {
    const hint = didYouMean(token.value, Object.keys(PREFIXES));
    throw filterError(`unknown prefix '${token.value}.'${hint ? ` (did you mean '${hint}.'?)` : ''}`, token, subject);
  }
  if (kind === 'attribute') {
    const attribute = attributeName(token.key!);
    if (attribute) return { kind, key: attribute };
    const known = [...STRING_ATTRIBUTES, ...NUMERIC_ATTRIBUTES, ...Object.keys(ATTRIBUTE_ALIASES)];
    const hint = didYouMean(token.key!, known);
    throw filterError(`unknown attribute '${token.key}'${hint ? ` (did you mean '${hint}'?)` : ''}; known: ${known.join(', ')}`, token, subject);
  }
  if (kind === 'dataset' && !(DATASET_KEYS as readonly string[]).includes(token.key!)) {
    throw filterError(`unknown dataset key '${token.key}'; known: ${DATASET_KEYS.join(', ')}`, token, subject);
  }
  return { kind, key: token.key! };
}

function attributeName(name: string): AttributeName | undefined {
  if ((STRING_ATTRIBUTES as readonly string[]).includes(name) || (NUMERIC_ATTRIBUTES as readonly string[]).includes(name)) return name as AttributeName;
  return Object.hasOwn(ATTRIBUTE_ALIASES, name) ? ATTRIBUTE_ALIASES[name] : undefined;
}

export function isNumericEntity(entity: Entity): boolean {
  return entity.kind === 'metric' || (entity.kind === 'attribute' && (NUMERIC_ATTRIBUTES as readonly string[]).includes(entity.key));
}

// Deeper nesting is refused: the parser recurses per level, and no real filter needs more.
const MAX_NESTING = 100;

export function parseFilter(input: string): FilterExpr | undefined {
  const tokens = tokenize(input);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const next = () => tokens[pos++]!;
  const isWord = (word: string) => peek().kind === 'word' && peek().value === word;

  // `item (WORD item)*`, flattened to one node: OR over ANDs over primaries.
  const joined = (type: 'or' | 'and', item: () => FilterExpr) => (): FilterExpr => {
    const items = [item()];
    while (isWord(type.toUpperCase())) {
      next();
      items.push(item());
    }
    return items.length === 1 ? items[0]! : { type, items };
  };
  const parseAnd = joined('and', () => parsePrimary());
  const parseOr = joined('or', parseAnd);
  let depth = 0;
  const parsePrimary = (): FilterExpr => {
    if (peek().kind === '(') {
      if (++depth > MAX_NESTING) throw filterError(`parentheses nested more than ${MAX_NESTING} deep`, peek());
      next();
      const inner = parseOr();
      depth--;
      if (peek().kind !== ')') throw filterError("expected ')'", peek());
      next();
      return inner;
    }
    return { type: 'compare', compare: parseComparison() };
  };
  const parseComparison = (): Comparison => {
    const entityToken = next();
    const entity = toEntity(entityToken);
    const opToken = next();
    const numeric = isNumericEntity(entity);
    if (opToken.kind === 'op') {
      const valueToken = next();
      if (numeric) {
        if (valueToken.kind !== 'number') throw filterError(`expected a number to compare ${entityToken.text} with`, valueToken);
        return { entity, op: opToken.value as '>', value: Number(valueToken.value) };
      }
      if (opToken.value !== '=' && opToken.value !== '!=') {
        throw filterError(`${entityToken.text} is a string: use =, !=, LIKE or ILIKE`, opToken);
      }
      return { entity, op: opToken.value as '=', value: expectString(valueToken, entityToken) };
    }
    if (opToken.kind === 'word' && (opToken.value === 'LIKE' || opToken.value === 'ILIKE') && !numeric) {
      const value = expectString(next(), entityToken);
      return { entity, op: opToken.value, value, like: likeMatcher(value, opToken.value === 'ILIKE') };
    }
    const negated = opToken.kind === 'word' && opToken.value === 'NOT' && isWord('IN');
    if (negated) next();
    const listed = (entity.kind === 'attribute' && entity.key === 'run_id') || entity.kind === 'dataset';
    if ((negated || (opToken.kind === 'word' && opToken.value === 'IN')) && listed) {
      return { entity, op: negated ? 'NOT IN' : 'IN', value: parseList() };
    }
    const allowed = numeric ? '>, >=, =, !=, <, <=' : listed ? '=, !=, LIKE, ILIKE, IN, NOT IN' : '=, !=, LIKE, ILIKE';
    throw filterError(`expected a comparison operator (${allowed}) after ${entityToken.text}`, opToken);
  };
  const expectString = (token: Token, entityToken: Token): string => {
    if (token.kind !== 'string') throw filterError(`expected a quoted string to compare ${entityToken.text} with`, token);
    return token.value;
  };
  const parseList = (): string[] => {
    if (next().kind !== '(') throw filterError("expected '(' after IN", tokens[pos - 1]!);
    const values: string[] = [];
    for (;;) {
      const token = next();
      if (token.kind !== 'string') throw filterError('expected a quoted string', token);
      values.push(token.value);
      const sep = next();
      if (sep.kind === ')') return values;
      if (sep.kind !== ',') throw filterError("expected ',' or ')'", sep);
    }
  };

  if (peek().kind === 'end') return undefined;
  const expr = parseOr();
  if (peek().kind !== 'end') throw filterError('expected AND, OR or the end of the filter', peek());
  return expr;
}

/** The entities a filter reads, in order, for showing them as columns. */
export function filterEntities(expr: FilterExpr | undefined): Entity[] {
  if (!expr) return [];
  return expr.type === 'compare' ? [expr.compare.entity] : expr.items.flatMap(filterEntities);
}

/**
 * SQL LIKE: `%` any run of characters, `_` exactly one. Matched by the greedy wildcard walk (back up
 * only to the last `%`), not a regular expression, whose backtracking on `%a%a%a%b` is exponential.
 */
function likeMatcher(pattern: string, caseInsensitive: boolean): (text: string) => boolean {
  const fold = (s: string) => (caseInsensitive ? s.toLowerCase() : s);
  const p = [...fold(pattern)];
  return (input) => {
    const t = [...fold(input)];
    let [i, j, star, resume] = [0, 0, -1, 0];
    while (i < t.length) {
      if (j < p.length && p[j] !== '%' && (p[j] === '_' || p[j] === t[i])) {
        i++;
        j++;
      } else if (j < p.length && p[j] === '%') {
        star = j++;
        resume = i;
      } else if (star >= 0) {
        j = star + 1;
        i = ++resume;
      } else {
        return false;
      }
    }
    while (p[j] === '%') j++;
    return j === p.length;
  };
}

export function matches(expr: FilterExpr, run: RunFields): boolean {
  switch (expr.type) {
    case 'and':
      return expr.items.every((item) => matches(item, run));
    case 'or':
      return expr.items.some((item) => matches(item, run));
    case 'compare':
      return compare(expr.compare, run);
  }
}

function fieldOf(entity: Entity, run: RunFields): string | number | null | undefined {
  switch (entity.kind) {
    case 'metric':
      return run.metric(entity.key);
    case 'param':
      return run.param(entity.key);
    case 'tag':
      return run.tag(entity.key);
    case 'attribute':
      return run.attribute(entity.key as AttributeName);
    case 'dataset':
      return undefined; // several values: see compare
  }
}

// As in MLflow, a run without the metric, param or tag never matches a clause on it (not even `!=`);
// a clause on datasets matches when one of the run's datasets does.
function compare(c: Comparison, run: RunFields): boolean {
  if (c.entity.kind === 'dataset') return run.datasets(c.entity.key as DatasetKey).some((value) => compareValue(c, value));
  const actual = fieldOf(c.entity, run);
  return actual !== undefined && actual !== null && compareValue(c, actual);
}

function compareValue(c: Comparison, actual: string | number): boolean {
  switch (c.op) {
    case 'IN':
      return c.value.includes(String(actual));
    case 'NOT IN':
      return !c.value.includes(String(actual));
    case 'LIKE':
    case 'ILIKE':
      return c.like(String(actual));
    case '=':
      return actual === c.value;
    case '!=':
      return actual !== c.value;
    case '>':
      return (actual as number) > c.value;
    case '>=':
      return (actual as number) >= c.value;
    case '<':
      return (actual as number) < c.value;
    case '<=':
      return (actual as number) <= c.value;
  }
}
