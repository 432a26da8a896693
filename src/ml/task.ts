import type { Cell } from './raw.js';

// Classification or regression, from `prepare.task` or inferred from the target column.

export type Task = 'classification' | 'regression';
export type TaskChoice = Task | 'auto';
export const TASK_CHOICES: readonly TaskChoice[] = ['auto', 'classification', 'regression'];

/** Above this many distinct numbers, an all-integer target is a quantity, not a set of classes. */
const MAX_CLASSES = 20;

/**
 * `auto`: regression when every present target value is a number and either one of them is not an
 * integer (scikit-learn's type_of_target calls that "continuous") or there are more than MAX_CLASSES
 * distinct values; classification otherwise (text labels, or few integer codes such as 0/1).
 */
export function inferTask(targets: readonly Cell[]): Task {
  const distinct = new Set<number>();
  for (const v of targets) {
    if (v === null) continue;
    if (typeof v !== 'number') return 'classification';
    if (!Number.isInteger(v)) return 'regression';
    distinct.add(v);
  }
  return distinct.size > MAX_CLASSES ? 'regression' : 'classification';
}
