// Ctrl-C and SIGTERM end the process once what is running has been stopped and recorded: each part
// that holds something (a tracked run, a stage's process group) registers a cleanup; on the first
// signal they all run, then the process exits 130 (SIGINT) or 143 (SIGTERM), as shells report them.
// Our listener stays installed until the exit, so no other library's handler (ora's cursor restore
// through signal-exit) re-raises the signal and kills the process before the cleanups are done.
// A second signal exits at once.

export type Cleanup = (signal: NodeJS.Signals) => Promise<void>;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const EXIT_CODES: Record<(typeof SIGNALS)[number], number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

const cleanups = new Set<Cleanup>();
let installed = false;
let interrupted: (typeof SIGNALS)[number] | undefined;

/** Runs `cleanup` if the process is interrupted while it is registered; returns the unregister function. */
export function onInterrupt(cleanup: Cleanup): () => void {
  if (!installed) {
    installed = true;
    for (const signal of SIGNALS) process.on(signal, () => handle(signal));
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** The signal being handled, if any: work that is still going on should stop, not start anything new. */
export function interruptedBy(): NodeJS.Signals | undefined {
  return interrupted;
}

function handle(signal: (typeof SIGNALS)[number]): void {
  if (interrupted) process.exit(EXIT_CODES[interrupted]);
  interrupted = signal;
  const running = [...cleanups].map((cleanup) => cleanup(signal).catch(() => undefined));
  void Promise.all(running).finally(() => process.exit(EXIT_CODES[signal]));
}
