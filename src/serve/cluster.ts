import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

// `mlops serve --workers N`: N processes (node:cluster) share one listening socket, so requests spread
// over the cores. Each worker loads the model, follows alias switches and appends to the prediction
// log itself (the log takes several writers). The primary only starts, watches and stops them, and
// answers /metrics for the whole server: a worker asked for metrics asks the primary, which collects
// every worker's counters (prom-client's cluster aggregation) so a scrape sees all requests.

const LISTENING = 'mlops:listening';
const METRICS_REQUEST = 'mlops:cluster-metrics';
const METRICS_REPLY = 'mlops:cluster-metrics-reply';

interface MetricsMessage {
  type: string;
  id: number;
  text?: string;
  error?: string;
}

export const isWorker = () => cluster.isWorker;

/** In a worker: metrics text for the whole cluster, read through the primary. */
export function clusterMetrics(registry: Registry): () => Promise<string> {
  new AggregatorRegistry(); // lets the primary's requests for this worker's metrics be answered
  AggregatorRegistry.setRegistries([registry]);
  let next = 0;
  const waiting = new Map<number, { resolve(text: string): void; reject(error: Error): void }>();
  process.on('message', (message: MetricsMessage) => {
    if (message?.type !== METRICS_REPLY) return;
    const w = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined) w?.reject(new Error(message.error));
    else w?.resolve(message.text ?? '');
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      process.send!({ type: METRICS_REQUEST, id });
    });
}

/** What a worker tells the primary once it serves: the URL and the model, for the primary's one line. */
export interface WorkerListening {
  readonly url: string;
  readonly model: string;
}

/** In a worker: tells the primary it is serving. */
export function announceListening(info: WorkerListening): void {
  process.send!({ type: LISTENING, ...info });
}

/** In a worker: leaves the cluster once the server is closed, so the process can end. */
export function leaveCluster(): void {
  if (cluster.isWorker) cluster.worker!.disconnect();
}

export interface ClusterOptions {
  readonly workers: number;
  /** Told of a worker that died and was replaced. */
  readonly warn: (message: string) => void;
}

export interface RunningCluster extends WorkerListening {
  /** Asks every worker to stop gracefully; resolves with the exit code once all have exited. */
  close(): Promise<number>;
}

/** Restarts of crashed workers allowed per minute before the server gives up. */
const MAX_RESTARTS = 5;

/**
 * In the primary: forks the workers (each runs the same command) and waits until all listen. A
 * worker that exits before that (a bad model URI, a port in use) stops the others, and the promise
 * rejects with its exit code, so a usage error still exits 2 before anyone is served.
 */
export function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let restarts: number[] = [];
  let settled = false;
  let exitCode = 0;
  let listening = 0;
  const live = new Set<Worker>();
  let allExited: () => void = () => {};

  return new Promise((resolve, reject) => {
    const fork = (): Worker => {
      const worker = cluster.fork();
      live.add(worker);
      worker.on('message', (message: MetricsMessage & Partial<WorkerListening>) => {
        if (message?.type === LISTENING && !settled && ++listening === options.workers) {
          settled = true;
          resolve({ url: message.url!, model: message.model!, close });
        }
        if (message?.type !== METRICS_REQUEST) return;
        aggregator.clusterMetrics().then(
          (text) => worker.isConnected() && worker.send({ type: METRICS_REPLY, id: message.id, text }),
          (error: Error) => worker.isConnected() && worker.send({ type: METRICS_REPLY, id: message.id, error: error.message }),
        );
      });
      worker.once('exit', (code, signal) => {
        live.delete(worker);
        const status = code ?? (signal ? 1 : 0);
        if (!settled) {
          settled = true;
          stopping = true;
          for (const w of live) w.process.kill('SIGTERM');
          reject(Object.assign(new Error(`a worker exited with code ${status} before listening`), { exitCode: status }));
        } else if (!stopping) {
          const now = Date.now();
          restarts = restarts.filter((t) => now - t < 60_000).concat(now);
          if (restarts.length > MAX_RESTARTS) {
            options.warn(`worker ${worker.process.pid} exited (${signal ?? `code ${status}`}); ${MAX_RESTARTS} restarts in a minute: stopping`);
            exitCode = 1;
            void close();
          } else {
            options.warn(`worker ${worker.process.pid} exited (${signal ?? `code ${status}`}); starting another`);
            fork();
          }
        } else if (status !== 0) exitCode = 1;
        if (live.size === 0) allExited();
      });
      return worker;
    };
    const done = new Promise<void>((r) => (allExited = r));
    const close = async () => {
      stopping = true;
      for (const w of live) w.process.kill('SIGTERM');
      if (live.size > 0) await done;
      return exitCode;
    };
    for (let i = 0; i < options.workers; i++) fork();
  });
}
