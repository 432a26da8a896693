import type { Command } from 'commander';

// `mlops ui`: parsing and the process's life; the server is src/ui/, loaded inside the action so
// `mlops --help` never loads fastify.

interface UiFlags {
  host: string;
  port: string;
  allowWrites?: boolean;
  serveUrl?: string;
}

export function register(program: Command): void {
  program
    .command('ui')
    .description('a local web app: runs (search, compare, artifacts), experiments, the pipeline, models, monitoring')
    .option('--host <host>', 'address to bind (use 0.0.0.0 to accept other machines)', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 picks a free one)', '5000')
    .option('--serve-url <url>', 'a running `mlops serve` (http://127.0.0.1:PORT): the Monitoring page shows its request rate and latency')
    .option('--allow-writes', 'let the page promote and roll back model aliases (read-only without it)')
    .action(async (opts: UiFlags) => {
      const [{ UsageError }, { openProject }, { startUi }, { serveUrl }] = await Promise.all([
        import('../../core/errors.js'),
        import('../project.js'),
        import('../../ui/server.js'),
        import('../../ui/monitor-view.js'),
      ]);
      const port = Number(opts.port);
      if (!/^\d+$/.test(opts.port) || port > 65535) throw new UsageError(`--port: expected a port number 0-65535, got ${JSON.stringify(opts.port)}`);
      let ui;
      try {
        ui = await startUi({ project: await openProject(), host: opts.host, port, allowWrites: Boolean(opts.allowWrites), serveUrl: opts.serveUrl === undefined ? undefined : serveUrl(opts.serveUrl) });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') throw new UsageError(`cannot listen on ${opts.host}:${opts.port}: ${(error as Error).message}`);
        throw error;
      }
      process.stderr.write(`mlops ui at ${ui.url}${opts.allowWrites ? ' (writes allowed)' : ' (read-only)'}\n`);
      await ui.warmed.catch(() => undefined);
      await new Promise<void>((resolve) => {
        const stop = () => void ui.close().then(resolve);
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      process.stderr.write('stopped\n');
    });
}
