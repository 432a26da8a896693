import type { Command } from 'commander';

// `mlops serve`: parsing and the process's life (signals, exit); the server is src/serve/, loaded
// inside the action so `mlops --help` never loads fastify.

const DEFAULT_MODEL = 'models:/obesity_classifier@champion';
const MiB = 1024 * 1024;

interface ServeFlags {
  host: string;
  port: string;
  bodyLimit: string;
  reloadInterval: string;
  apiKeyEnv?: string;
  retention?: string;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve a model over HTTP: MLflow scoring protocol, Open Inference Protocol v2, /predict, Prometheus /metrics, a prediction log')
    .argument('[model]', 'models:/NAME@ALIAS, models:/NAME/VERSION, models:/NAME/latest or a model JSON written by train', DEFAULT_MODEL)
    .option('--host <host>', 'address to bind (use 0.0.0.0 to accept other machines)', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 picks a free one)', '8080')
    .option('--body-limit <MiB>', 'largest request body in MiB', '10')
    .option('--api-key-env <VAR>', 'require Authorization: Bearer <the value of this environment variable> (health probes stay open)')
    .option('--retention <duration>', 'delete logged predictions older than this, e.g. 30d, 12h (default: predictions.retention in .mlops/config, else keep all)')
    .option('--reload-interval <seconds>', 'how often to look whether the served alias moved (0: never)', '2')
    .action(async (model: string, opts: ServeFlags, command: Command) => {
      const [{ UsageError }, { openProject }, { startServer }, { parseRetention }] = await Promise.all([
        import('../../core/errors.js'),
        import('../project.js'),
        import('../../serve/server.js'),
        import('../../predictions/open.js'),
      ]);
      const port = Number(opts.port);
      if (!/^\d+$/.test(opts.port) || port > 65535) throw new UsageError(`--port: expected a port number 0-65535, got ${JSON.stringify(opts.port)}`);
      const limit = Number(opts.bodyLimit);
      if (!(limit > 0)) throw new UsageError(`--body-limit: expected a positive number of MiB, got ${JSON.stringify(opts.bodyLimit)}`);
      const interval = Number(opts.reloadInterval);
      if (!(interval >= 0)) throw new UsageError(`--reload-interval: expected a number of seconds, got ${JSON.stringify(opts.reloadInterval)}`);
      if (opts.retention !== undefined) {
        try {
          parseRetention(opts.retention);
        } catch (error) {
          throw new UsageError(`--retention: ${(error as Error).message}`);
        }
      }
      const apiKey = opts.apiKeyEnv === undefined ? undefined : process.env[opts.apiKeyEnv];
      if (opts.apiKeyEnv !== undefined && !apiKey) throw new UsageError(`--api-key-env: the environment variable ${opts.apiKeyEnv} is not set or empty`);
      let server;
      try {
        server = await startServer({
          project: await openProject(),
          model,
          host: opts.host,
          port,
          bodyLimit: Math.round(limit * MiB),
          accessLog: !process.stdout.isTTY,
          reloadInterval: interval * 1000,
          apiKey,
          retention: opts.retention,
          version: command.parent?.version() ?? '',
          warn: (message) => process.stderr.write(`${message}\n`),
        });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') throw new UsageError(`cannot listen on ${opts.host}:${opts.port}: ${(error as Error).message}`);
        throw error;
      }
      const { name, version } = server.model();
      process.stderr.write(`serving ${name}${version === undefined ? '' : ` version ${version}`} at ${server.url}\n`);
      // A graceful stop is a success: stop accepting, finish in-flight requests, write the log, exit 0.
      await new Promise<void>((resolve) => {
        const stop = () => void server.close().then(resolve);
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      process.stderr.write('stopped\n');
    });
}
