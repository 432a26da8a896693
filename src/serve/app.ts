import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { requireApiKey } from './auth.js';
import type { ServerContext } from './context.js';
import { httpError } from './errors.js';
import type { ServerMetrics } from './metrics.js';
import { mlflowRoutes } from './mlflow-routes.js';
import { predictRoute } from './predict-route.js';
import { v2Routes } from './v2-routes.js';

export interface AppOptions {
  /** Largest request body in bytes; a bigger one is a 413. */
  readonly bodyLimit: number;
  /** Structured JSON access logs on stdout (off on a terminal and in tests). */
  readonly accessLog: boolean;
  /** When set, every route but the health probes needs `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
}

/**
 * The HTTP application: every protocol's routes on one fastify instance, with one error handler so
 * every refusal is a JSON 4xx naming what is wrong and every fault a 500 with no detail.
 */
export function buildApp(ctx: ServerContext, metrics: ServerMetrics, options: AppOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: options.bodyLimit,
    logger: options.accessLog ? { level: 'info' } : false,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
  });
  if (options.apiKey !== undefined) requireApiKey(app, options.apiKey);
  app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.request(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((error, request, reply) => {
    const { statusCode, message, internal } = httpError(error);
    if (internal) request.log.error({ err: error }, 'internal error');
    const body = request.url.startsWith('/v2') ? { error: message } : { error_code: statusCode >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST', message };
    return reply.code(statusCode).send(body);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error_code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` }));

  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.text()));
  mlflowRoutes(app, ctx);
  v2Routes(app, ctx);
  predictRoute(app, ctx);
  return app;
}
