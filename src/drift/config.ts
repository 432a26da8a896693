import { isAbsolute, join } from 'node:path';
import { didYouMean, UsageError } from '../core/errors.js';
import type { ParamsSection } from '../params/params.js';
import { CORRECTIONS } from './corrections.js';
import { type DriftOptions, TEST_CHOICES } from './detect.js';
import { ALTERNATIVES } from './ks-statistic.js';

/** Everything one drift check needs, from the command line or from params.yaml's `drift:` section. */
export interface DriftConfig extends DriftOptions {
  reference: string;
  current: string;
  /** Where the JSON report is written (always in stage mode); undefined: not written. */
  report?: string;
  failOnDrift: boolean;
}

/** Command-line flags as commander gives them (all optional strings, except the boolean switch). */
export interface DriftFlags {
  reference?: string;
  current?: string;
  columns?: string;
  test?: string;
  alternative?: string;
  threshold?: string;
  correction?: string;
  report?: string;
  failOnDrift?: boolean;
}

export const DEFAULTS = { test: 'auto', alternative: 'two-sided', threshold: 0.05, correction: 'bonferroni', report: 'reports/drift.json' } as const;
const KEYS = ['reference', 'current', 'columns', 'test', 'alternative', 'threshold', 'correction', 'fail_on_drift', 'report'] as const;

export type Fail = (key: string, detail: string) => Error;
export const usage: Fail = (key, detail) => new UsageError(`--${key}: ${detail}`);

/** Both --reference and --current given: the command line alone decides. */
export function configFromFlags(flags: DriftFlags): DriftConfig {
  if (!flags.reference || !flags.current) throw new UsageError('--reference and --current go together (or give neither to use params.yaml)');
  return {
    reference: flags.reference,
    current: flags.current,
    columns: flags.columns === undefined ? undefined : parseColumns(flags.columns, 'columns', usage),
    test: choice(flags.test ?? DEFAULTS.test, TEST_CHOICES, 'test', usage),
    alternative: choice(flags.alternative ?? DEFAULTS.alternative, ALTERNATIVES, 'alternative', usage),
    threshold: threshold(flags.threshold ?? DEFAULTS.threshold, 'threshold', usage),
    correction: choice(flags.correction ?? DEFAULTS.correction, CORRECTIONS, 'correction', usage),
    report: flags.report,
    failOnDrift: Boolean(flags.failOnDrift),
  };
}

/** Stage mode: params.yaml's `drift:` section, paths relative to the project root; flags still override. */
export function configFromParams(section: ParamsSection, root: string, flags: DriftFlags): DriftConfig {
  const v = section.value;
  const fail: Fail = (key, detail) => section.source.error([section.name, key], detail);
  for (const key of Object.keys(v)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      const hint = didYouMean(key, KEYS);
      throw fail(key, `unknown key${hint ? ` (did you mean '${hint}'?)` : ''}; known: ${KEYS.join(', ')}`);
    }
  }
  const path = (key: 'reference' | 'current' | 'report', fallback?: string): string => {
    const raw = v[key] ?? fallback;
    if (typeof raw !== 'string' || raw === '') throw fail(key, raw === undefined ? 'required: a CSV path' : 'expected a path');
    return isAbsolute(raw) ? raw : join(root, raw);
  };
  const columns = v.columns;
  if (columns !== undefined && !(Array.isArray(columns) && columns.length && columns.every((c) => typeof c === 'string' && c))) {
    throw fail('columns', 'expected a non-empty list of column names');
  }
  if (v.fail_on_drift !== undefined && typeof v.fail_on_drift !== 'boolean') throw fail('fail_on_drift', 'expected true or false');
  return {
    reference: path('reference'),
    current: path('current'),
    columns: flags.columns !== undefined ? parseColumns(flags.columns, 'columns', usage) : (columns as string[] | undefined),
    test: flags.test !== undefined ? choice(flags.test, TEST_CHOICES, 'test', usage) : choice(v.test ?? DEFAULTS.test, TEST_CHOICES, 'test', fail),
    alternative:
      flags.alternative !== undefined
        ? choice(flags.alternative, ALTERNATIVES, 'alternative', usage)
        : choice(v.alternative ?? DEFAULTS.alternative, ALTERNATIVES, 'alternative', fail),
    threshold:
      flags.threshold !== undefined ? threshold(flags.threshold, 'threshold', usage) : threshold(v.threshold ?? DEFAULTS.threshold, 'threshold', fail),
    correction:
      flags.correction !== undefined
        ? choice(flags.correction, CORRECTIONS, 'correction', usage)
        : choice(v.correction ?? DEFAULTS.correction, CORRECTIONS, 'correction', fail),
    report: flags.report ?? path('report', DEFAULTS.report),
    failOnDrift: Boolean(flags.failOnDrift) || v.fail_on_drift === true,
  };
}

export function choice<T extends string>(value: unknown, choices: readonly T[], key: string, fail: Fail): T {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  const hint = typeof value === 'string' ? didYouMean(value, choices) : undefined;
  throw fail(key, `expected one of ${choices.join(', ')}${hint ? ` (did you mean '${hint}'?)` : ''}, got ${JSON.stringify(value)}`);
}

export function threshold(value: unknown, key: string, fail: Fail): number {
  const t = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof t !== 'number' || !(t > 0 && t < 1)) throw fail(key, `expected a number between 0 and 1, got ${JSON.stringify(value)}`);
  return t;
}

function parseColumns(value: string, key: string, fail: Fail): string[] {
  const names = value.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw fail(key, 'expected comma-separated column names');
  return names;
}
