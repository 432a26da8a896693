import type { Project } from '../project/project.js';
import { openPredictionLog } from '../predictions/open.js';
import { buildApp } from './app.js';
import { clusterMetrics, isWorker } from './cluster.js';
import { ServerMetrics } from './metrics.js';
import { loadServedModel, type ServedModel } from './model.js';
import { ModelSlot } from './reload.js';
import { Scorer } from './scoring.js';

export interface ServeOptions {
  readonly project: Project;
  /** A models:/ URI or a model file path. */
  readonly model: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly bodyLimit: number;
  readonly accessLog: boolean;
  readonly apiKey?: string;
  readonly rateLimit?: { readonly max: number; readonly windowMs: number };
  /** How often to look whether the served alias moved, in ms (0: never). */
  readonly reloadInterval: number;
  /** How long logged predictions are kept (overrides predictions.retention), e.g. `30d`. */
  readonly retention?: string;
  /** A request column holding the client's own key per row, logged with the row (not a model input). */
  readonly idColumn?: string;
  /** The mlops version /version reports. */
  readonly version: string;
  /** Where what the client cannot see is told (a log write failing, a model switch). */
  readonly warn: (message: string) => void;
}

export interface RunningServer {
  readonly url: string;
  /** The model serving now. */
  model(): ServedModel;
  /** Looks at the registry now rather than at the next interval. */
  checkForSwitch(): Promise<void>;
  /** Stops accepting, lets in-flight requests finish, then writes the prediction log's backlog. */
  close(): Promise<void>;
}

/** `fn` run on the first call only; every call gets the first call's promise (two signals, one close). */
function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

/**
 * How often the server hands its logged rows to the log's thread. Rows waiting longer than a young-generation
 * collection apart (about 75 ms at 8,000 requests/s) survive it and are copied, then promoted, and the
 * server stops for it: at 100 ms the single-row p99 was 12 ms, at 10 ms 7-8 ms (`npm run bench serve`).
 */
const LOG_HANDOFF_MS = 10;

/** Loads the model and opens the log (so a bad URI or setting fails before listening), then listens. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const model = await loadServedModel(options.project, options.model);
  const log = await openPredictionLog(options.project, { retention: options.retention, onError: (e) => options.warn(`warning: prediction log: ${e.message}; will retry`), intervalMs: LOG_HANDOFF_MS });
  const metrics = new ServerMetrics(() => log.backlog);
  if (isWorker()) metrics.text = clusterMetrics(metrics.registry);
  metrics.serving(model);
  const slot = new ModelSlot(model, options.project, (next) => {
    metrics.serving(next);
    options.warn(`switched to ${next.name} version ${next.version}`);
  }, options.warn);
  const current = () => slot.current;
  const scorer = new Scorer(current, metrics, log, options.idColumn);
  const app = await buildApp({ version: options.version, scorer, model: current, ready: () => true }, metrics, options);
  const url = await app.listen({ host: options.host, port: options.port });
  slot.watch(options.reloadInterval);
  return {
    url,
    model: current,
    checkForSwitch: () => slot.check(),
    close: once(async () => {
      slot.stop();
      await app.close();
      await log.close();
    }),
  };
}
