import { filterError, tokenize } from './filter-lexer.js';
import { toEntity, type AttributeName, type Entity, type RunFields } from './filter.js';

// `--order-by "metrics.f1 DESC, params.max_depth"`: several keys, ASC by default. As in MLflow, in
// either direction a NaN sorts after every real value and runs without the value sort last; ties fall
// back to the newest start_time first, then run_id.

export interface OrderKey {
  entity: Entity;
  ascending: boolean;
}

export function parseOrderBy(clauses: readonly string[]): OrderKey[] {
  const keys: OrderKey[] = [];
  for (const clause of clauses) {
    const tokens = tokenize(clause, 'order-by');
    let pos = 0;
    while (tokens[pos]!.kind !== 'end') {
      const token = tokens[pos++]!;
      const entity = toEntity(token, 'order-by');
      if (entity.kind === 'dataset') throw filterError('runs cannot be ordered by their datasets', token, 'order-by');
      let ascending = true;
      const direction = tokens[pos]!;
      if (direction.kind === 'word' && (direction.value === 'ASC' || direction.value === 'DESC')) {
        ascending = direction.value === 'ASC';
        pos++;
      }
      keys.push({ entity, ascending });
      const sep = tokens[pos]!;
      if (sep.kind === ',') pos++;
      else if (sep.kind !== 'end') throw filterError("expected ASC, DESC, ',' or the end", sep, 'order-by');
      if (sep.kind === ',' && tokens[pos]!.kind === 'end') throw filterError('expected a key after the comma', tokens[pos]!, 'order-by');
    }
  }
  return keys;
}

/** A run's value to sort by: a real value, NaN, or missing (undefined). */
function sortValue(run: RunFields, entity: Entity): string | number | undefined {
  const value =
    entity.kind === 'metric' ? run.metric(entity.key)
    : entity.kind === 'param' ? run.param(entity.key)
    : entity.kind === 'tag' ? run.tag(entity.key)
    : run.attribute(entity.key as AttributeName);
  return value === null ? undefined : value;
}

/** Where a value sorts whatever the direction: real values, then NaN, then none. */
const rank = (value: string | number | undefined) => (value === undefined ? 2 : typeof value === 'number' && Number.isNaN(value) ? 1 : 0);

export function readSortKeys(run: RunFields, keys: readonly OrderKey[]): void {
  for (const { entity } of keys) sortValue(run, entity);
}

/** A run's order-by values, its start time and id: what the comparison reads. */
interface Keyed {
  values: (string | number | undefined)[];
  start: number;
  id: string;
}

const keyed = (run: RunFields, keys: readonly OrderKey[]): Keyed => ({
  values: keys.map((k) => sortValue(run, k.entity)),
  start: run.attribute('start_time') as number,
  id: run.attribute('run_id') as string,
});

function compareKeyed(keys: readonly OrderKey[], a: Keyed, b: Keyed): number {
  for (let i = 0; i < keys.length; i++) {
    const x = a.values[i];
    const y = b.values[i];
    const ranks = rank(x) - rank(y);
    if (ranks !== 0) return ranks;
    if (x === y || rank(x) !== 0) continue;
    const order = x! < y! ? -1 : 1;
    return keys[i]!.ascending ? order : -order;
  }
  return b.start - a.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A comparator over runs read lazily, so sorting reads only the keys it orders by. */
export function compareRuns(keys: readonly OrderKey[]): (a: RunFields, b: RunFields) => number {
  return (a, b) => compareKeyed(keys, keyed(a, keys), keyed(b, keys));
}

/** The runs in order, each run's keys read once (a comparator reads them at every comparison). */
export function sortRuns<T extends RunFields>(runs: readonly T[], keys: readonly OrderKey[]): T[] {
  return runs
    .map((run) => ({ run, key: keyed(run, keys) }))
    .sort((a, b) => compareKeyed(keys, a.key, b.key))
    .map((d) => d.run);
}
