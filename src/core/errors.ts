/** Exit codes shared by every command: 0 ok, 1 a stage or gate failed, 2 usage or configuration error. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** An error the CLI prints as one line and turns into an exit code. */
export class MlopsError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
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

/** Bad configuration or input data: `file:line: key: message`, exit 2, nothing written. */
export class ConfigError extends MlopsError {
  constructor(
    readonly detail: string,
    readonly where: Location = {},
  ) {
    super(formatLocated(detail, where), EXIT_USAGE);
  }
}

/** Bad command-line usage: exit 2. */
export class UsageError extends MlopsError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
  }
}

/** A stage, a quality gate or a drift check failed: exit 1. */
export class FailureError extends MlopsError {
  constructor(message: string) {
    super(message, EXIT_FAILED);
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
