import { UsageError } from '../core/errors.js';
import { CORRECTIONS } from '../drift/corrections.js';
import { choice, DEFAULTS, threshold, usage } from '../drift/config.js';
import { TEST_CHOICES } from '../drift/detect.js';
import { ALTERNATIVES } from '../drift/ks-statistic.js';
import { DRIFT_RULES, MONITOR_DEFAULTS, type MonitorDriftOptions } from './drift.js';

// The flags of `monitor drift` as options: the tests' flags read as `mlops drift` reads them (same
// choices, defaults and messages), plus the rule, the distance thresholds and the smallest window.

export interface MonitorDriftFlags {
  columns?: string;
  test?: string;
  alternative?: string;
  threshold?: string;
  correction?: string;
  rule?: string;
  wassersteinThreshold?: string;
  psiThreshold?: string;
  minRows?: string;
}

export function monitorDriftOptions(flags: MonitorDriftFlags): MonitorDriftOptions {
  const columns = flags.columns?.split(',').map((s) => s.trim());
  if (columns?.some((c) => c === '')) throw new UsageError('--columns: expected comma-separated column names');
  return {
    columns,
    test: choice(flags.test ?? DEFAULTS.test, TEST_CHOICES, 'test', usage),
    alternative: choice(flags.alternative ?? DEFAULTS.alternative, ALTERNATIVES, 'alternative', usage),
    threshold: threshold(flags.threshold ?? DEFAULTS.threshold, 'threshold', usage),
    correction: choice(flags.correction ?? DEFAULTS.correction, CORRECTIONS, 'correction', usage),
    rule: choice(flags.rule ?? MONITOR_DEFAULTS.rule, DRIFT_RULES, 'rule', usage),
    wassersteinThreshold: positive(flags.wassersteinThreshold, MONITOR_DEFAULTS.wassersteinThreshold, 'wasserstein-threshold'),
    psiThreshold: positive(flags.psiThreshold, MONITOR_DEFAULTS.psiThreshold, 'psi-threshold'),
    minRows: minRows(flags.minRows, MONITOR_DEFAULTS.minRows),
  };
}

function positive(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !(n > 0) || !Number.isFinite(n)) throw new UsageError(`--${flag}: expected a positive number, got ${JSON.stringify(text)}`);
  return n;
}

export function minRows(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new UsageError(`--min-rows: expected a whole number of rows (1 or more), got ${JSON.stringify(text)}`);
  return Number(text);
}
