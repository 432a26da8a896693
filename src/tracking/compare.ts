import type { Run } from './store.js';

/** One param or metric across the compared runs; `differs` when the values are not all the same. */
export interface ComparedKey {
  key: string;
  values: (string | number | null)[];
  differs: boolean;
}

export interface RunComparison {
  params: ComparedKey[];
  metrics: ComparedKey[];
}

function compareSection(runs: readonly Run[], pick: (run: Run) => Record<string, string | number>): ComparedKey[] {
  const keys = [...new Set(runs.flatMap((run) => Object.keys(pick(run))))].sort();
  return keys.map((key) => {
    const values = runs.map((run) => pick(run)[key] ?? null);
    // Object.is: NaN equals NaN, so two runs that both scored NaN do not "differ".
    return { key, values, differs: values.some((v) => !Object.is(v, values[0])) };
  });
}

/** Params and metrics of several runs side by side (a run missing a key counts as differing). */
export function compareRunData(runs: readonly Run[]): RunComparison {
  return { params: compareSection(runs, (r) => r.params), metrics: compareSection(runs, (r) => r.metrics) };
}
