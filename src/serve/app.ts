import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { accessLine, BufferedLines } from './access-log.js';
import { HEALTH_ROUTES, requireApiKey } from './auth.js';
import type { ServerContext } from './context.js';
import { httpError, RequestError } from './errors.js';
import type { ServerMetrics } from './metrics.js';
import { mlflowRoutes } from './mlflow-routes.js';
import { predictRoute } from './predict-route.js';
import { timeOrderedId } from './request-id.js';
import { v2Routes } from './v2-routes.js';

export interface AppOptions {
  /** Largest request body in bytes; a bigger one is a 413. */
  readonly bodyLimit: number;
  /** Structured JSON access logs on stdout (off on a terminal and in tests). */
  readonly accessLog: boolean;
  /** When set, every route but the health probes needs `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  /** At most `max` requests per client address in each window of `windowMs` (health probes exempt); per process. */
  readonly rateLimit?: { readonly max: number; readonly windowMs: number };
}

/** The error code of a JSON refusal, by status. */
const ERROR_CODES: Record<number, string> = { 401: 'UNAUTHENTICATED', 404: 'NOT_FOUND', 429: 'RATE_LIMITED' };
const errorCode = (status: number) => (status >= 500 ? 'INTERNAL_ERROR' : (ERROR_CODES[status] ?? 'BAD_REQUEST'));

/**
 * The HTTP application: every protocol's routes on one fastify instance, with one error handler so
 * every refusal is a JSON 4xx naming what is wrong and every fault a 500 with no detail.
 */
export async function buildApp(ctx: ServerContext, metrics: ServerMetrics, options: AppOptions): Promise<FastifyInstance> {
  const lines = options.accessLog ? new BufferedLines(process.stdout) : undefined;
  const app = Fastify({
    bodyLimit: options.bodyLimit,
    // Fastify's own lines (its two per request are off) go through pino to the same buffered stream;
    // the access line is ours (accessLine). Requests share the root logger rather than getting a
    // child each: an error line names its request itself.
    logger: lines ? { level: 'info', stream: lines } : false,
    logController: new LogController({ disableRequestLogging: true }),
    ...(lines ? { childLoggerFactory: (logger: FastifyBaseLogger) => logger } : {}),
    requestIdHeader: 'x-request-id',
    genReqId: () => timeOrderedId(),
    // A stop (SIGTERM) lets a request that already reached an open connection be answered, with
    // `Connection: close`, rather than refused with a 503: its client sent it before the stop, and
    // every answered row is logged before the server exits. New connections are refused as before.
    return503OnClosing: false,
  });
  if (options.apiKey !== undefined) requireApiKey(app, options.apiKey);
  if (options.rateLimit) {
    const { max, windowMs } = options.rateLimit;
    const { default: rateLimit } = await import('@fastify/rate-limit');
    await app.register(rateLimit, {
      max,
      timeWindow: windowMs,
      keyGenerator: (request) => request.ip,
      // Load balancers' probes and the Prometheus scraper are not clients to slow down.
      allowList: (request) => HEALTH_ROUTES.has(request.routeOptions.url ?? '') || request.routeOptions.url === '/metrics',
      errorResponseBuilder: (_request, context) => new RequestError(429, `rate limit exceeded: at most ${max} requests per ${windowMs / 1000} s from one client; retry in ${context.after}`),
    });
  }
  if (lines) app.addHook('onClose', async () => lines.close());
  app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const elapsed = reply.elapsedTime;
    metrics.request(route, request.method, reply.statusCode, elapsed / 1000);
    lines?.write(accessLine({ reqId: request.id, method: request.method, url: request.url, route, status: reply.statusCode, durationMs: elapsed, client: request.ip }));
    done();
  });
  app.setErrorHandler((error, request, reply) => {
    const { statusCode, message, internal } = httpError(error);
    if (internal) request.log.error({ reqId: request.id, err: error }, 'internal error');
    const body = request.url.startsWith('/v2') ? { error: message } : { error_code: errorCode(statusCode), message };
    return reply.code(statusCode).send(body);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error_code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` }));

  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.text()));
  mlflowRoutes(app, ctx);
  v2Routes(app, ctx);
  predictRoute(app, ctx);
  return app;
}
