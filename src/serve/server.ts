import { join } from 'node:path';
import type { Project } from '../project/project.js';
import { buildApp } from './app.js';
import { ServerMetrics } from './metrics.js';
import { loadServedModel, type ServedModel } from './model.js';
import { JsonLinesPredictionLog } from './prediction-log.js';
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
  /** The mlops version /version reports. */
  readonly version: string;
  /** Where a fault the client cannot see is told (a log write failing). */
  readonly warn: (message: string) => void;
}

export interface RunningServer {
  readonly url: string;
  readonly model: ServedModel;
  /** Stops accepting, lets in-flight requests finish, then writes the prediction log's backlog. */
  close(): Promise<void>;
}

/** The prediction log's default place: in the project's .mlops/ folder, beside the cache. */
export const predictionLogPath = (project: Project) => join(project.mlopsDir, 'predictions.jsonl');

/** Loads the model (so a bad URI fails before listening), then listens. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const model = await loadServedModel(options.project, options.model);
  const log = new JsonLinesPredictionLog(predictionLogPath(options.project), (e) => options.warn(`prediction log: ${e.message}; will retry`));
  const metrics = new ServerMetrics(() => log.backlog);
  metrics.serving(model);
  const scorer = new Scorer(() => model, metrics, log);
  const app = buildApp({ version: options.version, scorer, model: () => model, ready: () => true }, metrics, options);
  const url = await app.listen({ host: options.host, port: options.port });
  return {
    url,
    model,
    async close() {
      await app.close();
      await log.close();
    },
  };
}
