/**
 * What went wrong, independent of how it is reported: the CLI maps a kind to an exit code
 * (src/cli/main.ts) and a server would map it to an HTTP status (`HTTP_STATUS`).
 * - `invalid`: bad input (arguments, a config or pipeline file, data) that the user must fix
 * - `not-found`: something named does not exist (a run, an experiment, a file asked for)
 * - `conflict`: the request clashes with the current state (it exists already, it is deleted)
 * - `failed`: the work itself failed (a stage, a quality gate, a drift check)
 * - `interrupted`: stopped by a signal
 */
export type ErrorKind = 'invalid' | 'not-found' | 'conflict' | 'failed' | 'interrupted';

/** The HTTP status a server answers for each kind. */
export const HTTP_STATUS: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  failed: 500,
  interrupted: 503,
};

/** An error of a known kind: the CLI prints its message as one line. */
export class MlopsError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Where in a config file a problem sits; every part is optional so callers give what they know. */
export interface Location {
  file?: string;
  line?: number;
  key?: string;
}

/** Bad configuration or input data: `file:line: key: message`, nothing written. */
export class ConfigError extends MlopsError {
  constructor(
    readonly detail: string,
    readonly where: Location = {},
  ) {
    super(formatLocated(detail, where), 'invalid');
  }
}

/** Bad command-line usage. */
export class UsageError extends MlopsError {
  constructor(message: string) {
    super(message, 'invalid');
  }
}

/** Something named that does not exist: a run, an experiment, a file asked for. */
export class NotFoundError extends MlopsError {
  constructor(message: string) {
    super(message, 'not-found');
  }
}

/** The request clashes with what is there: it exists already, or it is deleted. */
export class ConflictError extends MlopsError {
  constructor(message: string) {
    super(message, 'conflict');
  }
}

/** A stage, a quality gate or a drift check failed. */
export class FailureError extends MlopsError {
  constructor(message: string) {
    super(message, 'failed');
  }
}

function formatLocated(detail: string, where: Location): string {
  const place = where.file ? (where.line ? `${where.file}:${where.line}` : where.file) : '';
  const key = where.key ? `'${where.key}'` : '';
  return [place, key, detail].filter(Boolean).join(': ');
}

/** Closest candidate by edit distance, for "did you mean" hints; undefined when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
