import { UsageError } from '../core/errors.js';
import { parseRetention } from '../predictions/open.js';

// The time a check covers and how it is cut into windows: `--since 7d` (up to now) or `--from T --to T`
// (ISO 8601), cut into `--window 1d` windows starting at `from` (the last one ends at `to`, so it may
// be shorter). Without --window the period is one window.

/** `30m`, `12h`, `7d`, `2w` in milliseconds (the prediction log's retention syntax, without `forever`). */
export function parseDuration(text: string, flag: string): number {
  let ms: number | undefined;
  try {
    ms = parseRetention(text);
  } catch {
    ms = undefined;
  }
  if (ms === undefined) throw new UsageError(`${flag}: expected a duration such as 30m, 12h, 7d or 2w, got ${JSON.stringify(text)}`);
  return ms;
}

/** An ISO 8601 time; a date alone (2026-11-30) is midnight UTC. A zone-less time is refused: it is ambiguous. */
export function parseTime(text: string, flag: string): Date {
  const ok = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i.test(text.trim());
  const date = new Date(text.trim());
  if (!ok || Number.isNaN(date.getTime())) {
    throw new UsageError(`${flag}: expected an ISO 8601 time with its zone (2026-11-30T08:00:00Z) or a date, got ${JSON.stringify(text)}`);
  }
  return date;
}

export interface Period {
  readonly from: Date;
  readonly to: Date;
  /** Window length in ms; the period's length when not cut. */
  readonly window: number;
}

export interface PeriodFlags {
  since?: string;
  from?: string;
  to?: string;
  window?: string;
}

export const DEFAULT_SINCE = '7d';

/** The period from the flags, as of `now`. */
export function periodFromFlags(flags: PeriodFlags, now: Date): Period {
  if (flags.since !== undefined && (flags.from !== undefined || flags.to !== undefined)) throw new UsageError('--since goes alone; or give --from (and --to)');
  if (flags.to !== undefined && flags.from === undefined) throw new UsageError('--to needs --from');
  let from: Date;
  let to: Date;
  if (flags.from !== undefined) {
    from = parseTime(flags.from, '--from');
    to = flags.to === undefined ? now : parseTime(flags.to, '--to');
    if (!(to > from)) throw new UsageError(`--to must be after --from (${from.toISOString()})`);
  } else {
    to = now;
    from = new Date(now.getTime() - parseDuration(flags.since ?? DEFAULT_SINCE, '--since'));
  }
  const length = to.getTime() - from.getTime();
  const window = flags.window === undefined ? length : parseDuration(flags.window, '--window');
  if (Math.ceil(length / window) > MAX_WINDOWS) throw new UsageError(`--window: ${Math.ceil(length / window)} windows in the period; at most ${MAX_WINDOWS}`);
  return { from, to, window };
}

/** More windows than this is a mistyped flag (1s windows over a month), not a report anyone reads. */
const MAX_WINDOWS = 10_000;

export interface Window {
  readonly index: number;
  readonly from: Date;
  readonly to: Date;
}

export function windowCount(period: Period): number {
  return Math.max(1, Math.ceil((period.to.getTime() - period.from.getTime()) / period.window));
}

export function windowAt(period: Period, index: number): Window {
  const start = period.from.getTime() + index * period.window;
  return { index, from: new Date(start), to: new Date(Math.min(start + period.window, period.to.getTime())) };
}

/** Which window a time falls in; -1 outside the period. */
export function windowIndex(period: Period, time: number): number {
  if (!(time >= period.from.getTime() && time < period.to.getTime())) return -1;
  return Math.floor((time - period.from.getTime()) / period.window);
}
