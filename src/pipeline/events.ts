import type { ChangeReason } from './status.js';

// The executor reports only through these events; loggers (src/cli/loggers) decide how they look on a
// terminal, in CI, or as JSON, so presentation never leaks into execution.

/** A stage that ended without error. */
export type StageOutcome =
  | 'up-to-date' // nothing changed
  | 'frozen' // frozen: never re-run
  | 'ran' // the command ran and succeeded
  | 'restored' // the run-cache had this input combination: outputs checked out, command not run
  | 'would-run'; // --dry

export type FailureReason =
  | 'exit-non-zero' // the command exited non-zero or was killed by a signal
  | 'interrupted' // repro itself was interrupted (Ctrl-C, SIGTERM) while the command ran
  | 'spawn-error' // the shell could not be started
  | 'missing-dependency' // a dep does not exist when the stage is about to run
  | 'missing-output' // the command succeeded but did not create a declared output
  | 'output-error' // an old output could not be removed before the command ran
  | 'cache-error'; // an output could not be stored or restored

export type ExecutorEvent =
  | { type: 'waiting-for-lock'; pid: number; orphan?: { pgid: number; stage: string } }
  | { type: 'stage-start'; stage: string; reasons: readonly ChangeReason[]; cmd: string }
  | { type: 'stage-output'; stage: string; stream: 'stdout' | 'stderr'; chunk: string }
  | { type: 'stage-done'; stage: string; outcome: StageOutcome; reasons: readonly ChangeReason[] }
  | { type: 'stage-failed'; stage: string; reason: FailureReason; message: string; reasons: readonly ChangeReason[]; exitCode?: number }
  | { type: 'stage-skipped'; stage: string; reason: 'upstream-failed' | 'stopped'; upstream?: string };

export type Emit = (event: ExecutorEvent) => void;
