import type { SectionReader } from './config.js';
import { DEFAULT_FOREST_PARAMS, type ForestParams } from './forest.js';

// The parameter grid: every key checked against what the forest accepts, then expanded the way
// scikit-learn's ParameterGrid does (keys sorted by name, the last key varying fastest).

export type GridKey = keyof ForestParams;
const GRID_KEYS = Object.keys(DEFAULT_FOREST_PARAMS).sort() as GridKey[];

type Check = (v: unknown) => boolean;
const isInt = (min: number): Check => (v) => Number.isInteger(v) && (v as number) >= min;

const CHECKS: Record<GridKey, { check: Check; expected: string }> = {
  n_estimators: { check: isInt(1), expected: 'an integer >= 1' },
  max_depth: { check: (v) => v === null || isInt(1)(v), expected: 'an integer >= 1 or null (unlimited)' },
  max_features: {
    check: (v) => v === null || v === 'sqrt' || v === 'log2' || isInt(1)(v) || (typeof v === 'number' && v > 0 && v < 1),
    expected: "'sqrt', 'log2', a fraction in (0, 1), a count >= 1, or null (all)",
  },
  min_samples_split: { check: isInt(2), expected: 'an integer >= 2' },
  min_samples_leaf: { check: isInt(1), expected: 'an integer >= 1' },
  bootstrap: { check: (v) => typeof v === 'boolean', expected: 'true or false' },
};

export type Grid = Partial<Record<GridKey, unknown[]>>;

/** Reads `grid:` from the train section: a scalar is a one-value list; empty lists and grids are errors. */
export function readGrid(reader: SectionReader): Grid {
  const raw = reader.mapping(['grid']);
  if (Object.keys(raw).length === 0) throw reader.error(['grid'], 'the grid is empty; give at least one parameter with its values');
  reader.checkKeys(['grid'], raw, GRID_KEYS);
  const grid: Grid = {};
  for (const key of Object.keys(raw) as GridKey[]) {
    const values = Array.isArray(raw[key]) ? (raw[key] as unknown[]) : [raw[key]];
    if (values.length === 0) throw reader.error(['grid', key], 'empty list of values');
    const { check, expected } = CHECKS[key];
    values.forEach((v, i) => {
      if (!check(v)) throw reader.error(Array.isArray(raw[key]) ? ['grid', key, i] : ['grid', key], `expected ${expected}, got ${JSON.stringify(v)}`);
    });
    grid[key] = values;
  }
  return grid;
}

export interface Candidate {
  /** Only the grid's keys, as scikit-learn's cv_results_ `params`. */
  readonly params: Partial<ForestParams>;
  readonly full: ForestParams;
}

/** `defaults` fill the keys the grid leaves out (scikit-learn's estimator defaults). */
export function expandGrid(grid: Grid, defaults: ForestParams = DEFAULT_FOREST_PARAMS): Candidate[] {
  const keys = (Object.keys(grid) as GridKey[]).sort();
  let combos: Partial<ForestParams>[] = [{}];
  for (const key of keys) combos = combos.flatMap((c) => grid[key]!.map((v) => ({ ...c, [key]: v })));
  return combos.map((params) => ({ params, full: { ...defaults, ...params } }));
}
