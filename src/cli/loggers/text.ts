import type { ExecutorEvent, StageOutcome } from '../../pipeline/events.js';
import { describeReason, type ChangeReason } from '../../pipeline/status.js';
import { color } from '../color.js';

const OUTCOME: Record<StageOutcome, string> = {
  'up-to-date': 'up to date',
  frozen: 'frozen, skipped',
  ran: 'ran',
  restored: 'restored from run-cache (command not run)',
  'would-run': 'would run',
};

const why = (reasons: readonly ChangeReason[]) => (reasons.length ? ` (${reasons.map(describeReason).join('; ')})` : '');

/**
 * One stable line per stage event, coloured only on a terminal. With parallel stages, their output
 * lines are prefixed with the stage name so interleaved output stays readable.
 */
export function textLogger(options: { prefixOutput: boolean; out?: NodeJS.WritableStream }) {
  const out = options.out ?? process.stdout;
  const line = (text: string) => out.write(`${text}\n`);
  const partial = new Map<string, string>();
  const counts = { ran: 0, restored: 0, 'up-to-date': 0, frozen: 0, 'would-run': 0, failed: 0, skipped: 0 };

  const emit = (event: ExecutorEvent): void => {
    switch (event.type) {
      case 'waiting-for-lock':
        if (event.orphan) {
          const { pgid, stage } = event.orphan;
          return void line(color.yellow(`waiting for stage '${stage}' left running by a killed repro (process group ${pgid}; kill -- -${pgid} stops it)...`));
        }
        return void line(color.yellow(`waiting for another mlops repro in this project to finish (pid ${event.pid})...`));
      case 'stage-start':
        line(`${color.bold(event.stage)}: running${why(event.reasons)}`);
        return void line(color.dim(`> ${event.cmd}`));
      case 'stage-output':
        return options.prefixOutput ? prefixed(event.stage, event.stream, event.chunk) : void stream(event.stream).write(event.chunk);
      case 'stage-done': {
        counts[event.outcome]++;
        const paint = event.outcome === 'ran' || event.outcome === 'restored' ? color.green : color.dim;
        const reasons = event.outcome === 'ran' ? '' : why(event.reasons);
        return void line(`${color.bold(event.stage)}: ${paint(OUTCOME[event.outcome])}${reasons}`);
      }
      case 'stage-failed':
        counts.failed++;
        return void line(`${color.bold(event.stage)}: ${color.red('failed')}: ${event.message}`);
      case 'stage-skipped':
        counts.skipped++;
        return void line(
          `${color.bold(event.stage)}: ${color.yellow('not run')} (${event.upstream ? `upstream stage '${event.upstream}' failed` : 'stopped after a failure'})`,
        );
    }
  };

  const stream = (name: 'stdout' | 'stderr') => (name === 'stdout' ? out : process.stderr);
  const prefixed = (stage: string, name: 'stdout' | 'stderr', chunk: string) => {
    const key = `${stage}\0${name}`;
    const lines = ((partial.get(key) ?? '') + chunk).split('\n');
    partial.set(key, lines.pop()!);
    for (const l of lines) stream(name).write(`${color.cyan(`[${stage}]`)} ${l}\n`);
  };

  const summary = (): string => {
    const parts = Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k.replace(/-/g, ' ')}`);
    return parts.length ? parts.join(', ') : 'no stages';
  };

  return { emit, summary };
}
