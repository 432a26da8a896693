import { formatNumber } from '../drift/render.js';
import type { DriftCheck, OutcomeCheck } from './check.js';
import type { Scores } from './outcomes.js';

// The rows the CLI shows of a check: the same for the terminal table and the markdown summary.

/** A window's bounds without the seconds' noise when they are whole: 2026-11-30T08:00Z. */
const time = (iso: string) => iso.replace(/:00\.000Z$/, 'Z').replace(/\.000Z$/, 'Z');
const num = (x: number | null) => (x === null ? '-' : formatNumber(x));

export const WINDOW_HEADER = ['from', 'to', 'versions', 'rows', 'status', 'share', 'drifted columns'] as const;

/** Per window; `versions` names whose rows it tested, against the training reference of version `reference_version`. */
export function windowRows(check: DriftCheck): string[][] {
  return check.windows.map((w) => [
    time(w.from),
    time(w.to),
    `v${w.versions.join(', v')}`,
    String(w.rows),
    w.status === 'too_small' ? 'too small' : w.status,
    w.share === null ? '-' : `${(w.share * 100).toFixed(1)}%`,
    w.drifted_columns.join(', ') || '-',
  ]);
}

export const COLUMN_HEADER = ['column', 'type', 'test', 'statistic', 'p-value', 'adjusted', 'distance', 'psi', 'drift'] as const;

/** Per column, for the one window of a check that has one window (several windows: see the JSON). */
export function columnRows(check: DriftCheck): string[][] | undefined {
  const [only, ...more] = check.windows;
  if (!only || more.length || only.status === 'too_small') return undefined;
  return Object.entries(only.columns).map(([name, c]) => [
    name, c.type, c.test, num(c.statistic), num(c.p_value), num(c.p_adjusted), num(c.distance), num(c.psi), c.drift ? 'yes' : 'no',
  ]);
}

export function driftSummary(check: DriftCheck): string {
  const n = check.windows.length;
  const small = check.too_small_windows ? `, ${check.too_small_windows} too small (fewer than ${check.settings.min_rows} rows)` : '';
  const what = `${check.model.uri} (v${check.model.versions.join(', v')})`;
  const how = `rule ${check.settings.rule}, threshold ${check.settings.threshold}, correction ${check.settings.correction}`;
  return check.drift
    ? `drift in ${check.drifted_windows} of ${n} window(s)${small}: ${what}; ${how}`
    : `no drift in ${n - check.too_small_windows} of ${n} window(s)${small}: ${what}; ${how}`;
}

export const SCORE_HEADER = ['rows', 'accuracy', 'f1_macro', 'log_loss', 'brier'] as const;
const scoreCells = (s: Scores) => [String(s.rows), num(s.accuracy), num(s.f1_macro), num(s.log_loss), num(s.brier)];

export const OUTCOME_HEADER = ['scope', ...SCORE_HEADER] as const;

export function outcomeRows(check: OutcomeCheck): string[][] {
  const windows = check.windows.length > 1 ? check.windows.map((w) => [`${time(w.from)} .. ${time(w.to)}`, ...scoreCells(w)]) : [];
  const versions = Object.entries(check.by_version).map(([v, s]) => [`version ${v}`, ...scoreCells(s)]);
  return [['overall', ...scoreCells(check.overall)], ...windows, ...versions];
}

export function outcomeLines(check: OutcomeCheck): string[] {
  const u = check.unmatched;
  const listed = u.label_ids.length ? ` (${u.label_ids.join(', ')}${u.labels > u.label_ids.length ? ', ...' : ''})` : '';
  const lines = [`unmatched: ${u.labels} label(s) with no logged prediction${listed}, ${u.predictions} prediction(s) with no label`];
  for (const g of check.gates) {
    lines.push(`${g.passed ? 'passed' : 'FAILED'}: ${g.metric} ${formatNumber(g.actual)} ${g.bound === 'min' ? '>=' : '<='} ${g.value} (${g.where === 'overall' ? 'overall' : `window from ${time(g.where)}`})`);
  }
  return lines;
}
