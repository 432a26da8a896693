import type { ExecutorEvent } from '../../pipeline/events.js';
import { describeReason } from '../../pipeline/status.js';

interface StageReport {
  status: string;
  reasons: string[];
  changes?: unknown[];
  message?: string;
  exit_code?: number;
}

/**
 * Collects events into one JSON document printed at the end (`--json`); stage output goes to stderr so
 * stdout stays parseable.
 */
export function jsonLogger() {
  const stages: Record<string, StageReport> = {};
  const emit = (event: ExecutorEvent): void => {
    switch (event.type) {
      case 'stage-output':
        process.stderr.write(event.chunk);
        return;
      case 'stage-done':
        stages[event.stage] = {
          status: event.outcome,
          reasons: event.reasons.map(describeReason),
          changes: [...event.reasons],
        };
        return;
      case 'stage-failed':
        stages[event.stage] = {
          status: 'failed',
          reasons: event.reasons.map(describeReason),
          changes: [...event.reasons],
          message: event.message,
          ...(event.exitCode === undefined ? {} : { exit_code: event.exitCode }),
        };
        return;
      case 'stage-skipped':
        stages[event.stage] = { status: 'not-run', reasons: [event.upstream ? `upstream stage '${event.upstream}' failed` : 'stopped'] };
        return;
      default:
        return;
    }
  };
  return { emit, document: () => ({ stages }) };
}
