import { own, setOwn } from '../core/flatten.js';
import type { Snapshot } from './collect.js';

/** One changed key: DVC's `{old, new, diff}`; `diff` (new - old) only when both values are numbers. */
export interface Change {
  old: unknown;
  new: unknown;
  diff?: number;
}

/** `{file: {key: change}}`, files and keys in the order they first appear. */
export type DiffResult = Record<string, Record<string, Change>>;

export interface DiffOptions {
  /** Keep unchanged keys too (`--all`). */
  all?: boolean;
  /** Compute `diff` for numbers (metrics yes, params no). */
  numericDiff?: boolean;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

// Arrays stay values after flattening, so equality is by content, not identity.
const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

/** Compares two snapshots key by key; a key or file missing on one side is null there. */
export function diffSnapshots(a: Snapshot, b: Snapshot, options: DiffOptions = {}): DiffResult {
  const result: DiffResult = {};
  for (const file of new Set([...a.keys(), ...b.keys()])) {
    const oldValues = a.get(file) ?? null;
    const newValues = b.get(file) ?? null;
    if (oldValues === null && newValues === null) continue;
    const changes: Record<string, Change> = {};
    for (const key of new Set([...Object.keys(oldValues ?? {}), ...Object.keys(newValues ?? {})])) {
      const oldValue = own(oldValues ?? {}, key) ?? null;
      const newValue = own(newValues ?? {}, key) ?? null;
      if (!options.all && same(oldValue, newValue)) continue;
      const change: Change = { old: oldValue, new: newValue };
      if (options.numericDiff && isNumber(oldValue) && isNumber(newValue)) change.diff = newValue - oldValue;
      setOwn(changes, key, change);
    }
    if (Object.keys(changes).length) setOwn(result, file, changes);
  }
  return result;
}
