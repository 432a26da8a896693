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
  workers: string;
  rateLimit?: string;
  idColumn?: string;
}

const WINDOWS: Record<string, number> = { s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3600_000, hour: 3600_000 };

/** Runs `stop` on the first SIGTERM or SIGINT; a second signal while stopping is ignored, not fatal. */
function onStopSignal(stop: () => void): void {
  let stopping = false;
  const handler = () => {
    if (!stopping) stop();
    stopping = true;
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve a model over HTTP: MLflow scoring protocol, Open Inference Protocol v2, /predict, Prometheus /metrics, a prediction log')
    .argument('[model]', 'models:/NAME@ALIAS, models:/NAME/VERSION, models:/NAME/latest or a model JSON written by train', DEFAULT_MODEL)
    .option('--host <host>', 'address to bind (use 0.0.0.0 to accept other machines)', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 picks a free one)', '8080')
    .option('--workers <n>', 'processes serving requests, each on its own core', '1')
    .option('--body-limit <MiB>', 'largest request body in MiB', '10')
    .option('--rate-limit <n/unit>', 'at most n requests per client address per second, minute or hour, e.g. 100/s, 3000/min (each worker counts its own)')
    .option('--api-key-env <VAR>', 'require Authorization: Bearer <the value of this environment variable> (health probes stay open)')
    .option('--retention <duration>', 'delete logged predictions older than this, e.g. 30d, 12h (default: predictions.retention in .mlops/config, else keep all)')
    .option('--id-column <name>', "a request column holding the client's own key per row: logged with the row (monitor outcomes --id-column joins on it), never given to the model; every row must carry one")
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
      const workers = Number(opts.workers);
      if (!/^\d+$/.test(opts.workers) || workers < 1) throw new UsageError(`--workers: expected a positive number of processes, got ${JSON.stringify(opts.workers)}`);
      const interval = Number(opts.reloadInterval);
      if (!(interval >= 0)) throw new UsageError(`--reload-interval: expected a number of seconds, got ${JSON.stringify(opts.reloadInterval)}`);
      if (opts.retention !== undefined) {
        try {
          parseRetention(opts.retention);
        } catch (error) {
          throw new UsageError(`--retention: ${(error as Error).message}`);
        }
      }
      let rateLimit;
      if (opts.rateLimit !== undefined) {
        const m = /^(\d+)\/(\w+)$/.exec(opts.rateLimit.trim());
        if (!m || Number(m[1]) < 1 || !WINDOWS[m[2]!]) throw new UsageError(`--rate-limit: expected requests per unit, e.g. 100/s, 3000/min, 50000/h; got ${JSON.stringify(opts.rateLimit)}`);
        rateLimit = { max: Number(m[1]), windowMs: WINDOWS[m[2]!]! };
      }
      const apiKey = opts.apiKeyEnv === undefined ? undefined : process.env[opts.apiKeyEnv];
      if (opts.apiKeyEnv !== undefined && !apiKey) throw new UsageError(`--api-key-env: the environment variable ${opts.apiKeyEnv} is not set or empty`);
      const { isWorker, startCluster, announceListening, leaveCluster } = await import('../../serve/cluster.js');
      const warn = (message: string) => process.stderr.write(`${message}\n`);
      if (workers > 1 && !isWorker()) {
        // The primary: starts the workers (each runs this same command), then waits for a signal.
        let cluster;
        try {
          cluster = await startCluster({ workers, warn });
        } catch (error) {
          process.exitCode = (error as { exitCode?: number }).exitCode ?? 1; // the worker said why
          return;
        }
        warn(`serving ${cluster.model} at ${cluster.url} with ${workers} workers`);
        process.exitCode = await new Promise<number>((resolve) => onStopSignal(() => void cluster.close().then(resolve)));
        warn('stopped');
        return;
      }
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
          rateLimit,
          retention: opts.retention,
          idColumn: opts.idColumn,
          version: command.parent?.version() ?? '',
          warn,
        });
      } catch (error) {
        leaveCluster();
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') throw new UsageError(`cannot listen on ${opts.host}:${opts.port}: ${(error as Error).message}`);
        throw error;
      }
      const { name, version } = server.model();
      const serving = `${name}${version === undefined ? '' : ` version ${version}`}`;
      if (isWorker()) announceListening({ url: server.url, model: serving });
      else warn(`serving ${serving} at ${server.url}`);
      // A graceful stop is a success: stop accepting, finish in-flight requests, write the log, exit 0.
      await new Promise<void>((resolve) => onStopSignal(() => void server.close().then(resolve)));
      if (isWorker()) return leaveCluster();
      process.stderr.write('stopped\n');
    });
}
