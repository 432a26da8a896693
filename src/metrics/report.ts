import { own } from '../core/flatten.js';
import type { Snapshot } from './collect.js';
import type { DiffResult } from './diff.js';

/** DVC's default: floats rounded to 5 decimal places in tables (JSON keeps full values). */
export const DEFAULT_PRECISION = 5;

export interface Table {
  header: string[];
  rows: string[][];
}

/** One table cell: floats rounded to `precision` decimals (when given), missing values as `-`, as DVC prints them. */
export function formatValue(value: unknown, precision?: number): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') return Number.isInteger(value) || precision === undefined ? String(value) : String(Number(value.toFixed(precision)));
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** `{file: {key: value}}` of the files that exist in the snapshot. */
export function snapshotJson(snapshot: Snapshot): Record<string, Record<string, unknown>> {
  return Object.fromEntries(present(snapshot));
}

function present(snapshot: Snapshot): [string, Record<string, unknown>][] {
  return [...snapshot].filter((entry): entry is [string, Record<string, unknown>] => entry[1] !== null);
}

/** `Path | key1 | key2 ...`: one row per file, columns the union of all keys, `-` where a file lacks one. */
export function showTable(snapshot: Snapshot, precision = DEFAULT_PRECISION): Table {
  const files = present(snapshot);
  const keys = [...new Set(files.flatMap(([, values]) => Object.keys(values)))];
  return {
    header: ['Path', ...keys],
    rows: files.map(([file, values]) => [file, ...keys.map((k) => formatValue(own(values, k), precision))]),
  };
}

/** `Path | Metric | Value`: one row per key, for a terminal too narrow for one row per file. */
export function showLongTable(snapshot: Snapshot, precision = DEFAULT_PRECISION): Table {
  return {
    header: ['Path', 'Metric', 'Value'],
    rows: present(snapshot).flatMap(([file, values]) => Object.entries(values).map(([k, v]) => [file, k, formatValue(v, precision)])),
  };
}

/** `Path | Metric | <a> | <b> | Change` (params: `Param` and no Change column), one row per changed key. */
export function diffTable(
  result: DiffResult,
  labels: readonly [string, string],
  options: { kind: 'Metric' | 'Param'; precision?: number },
): Table {
  const withChange = options.kind === 'Metric';
  const rows = Object.entries(result).flatMap(([file, changes]) =>
    Object.entries(changes).map(([key, c]) => {
      const row = [file, key, formatValue(c.old, options.precision), formatValue(c.new, options.precision)];
      return withChange ? [...row, formatValue(c.diff, options.precision)] : row;
    }),
  );
  return { header: ['Path', options.kind, ...labels, ...(withChange ? ['Change'] : [])], rows };
}
