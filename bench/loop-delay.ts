import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

// Preloaded (node --import) into the processes of a server the serve bench loads: how late the event
// loop ran its timers (the stalls a request waits behind: GC, long handlers, log flushes) and the GC
// pauses, over the measured run only. SIGUSR2 prints the figures since the last SIGUSR2 on stderr
// (one `loop-delay` line) and starts over. Bench-only: the server's code does not know of it.

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
let gc = { pauses: 0, ms: 0, max: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.pauses++;
    gc.ms += entry.duration;
    gc.max = Math.max(gc.max, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });

process.on('SIGUSR2', () => {
  const ms = (ns: number) => (ns / 1e6).toFixed(1);
  if (delay.count > 0) {
    process.stderr.write(
      `loop-delay pid ${process.pid}: p50 ${ms(delay.percentile(50))} p99 ${ms(delay.percentile(99))} max ${ms(delay.max)} ms; ` +
        `GC ${gc.pauses} pauses, ${gc.ms.toFixed(0)} ms, longest ${gc.max.toFixed(1)} ms\n`,
    );
  }
  delay.reset();
  gc = { pauses: 0, ms: 0, max: 0 };
});
