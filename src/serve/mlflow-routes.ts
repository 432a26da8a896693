import type { FastifyInstance } from 'fastify';
import { RequestError, badInput } from './errors.js';
import { fromColumns, fromCsv, fromRecords, fromSplit } from './input.js';
import type { ServerContext } from './context.js';

// MLflow's scoring protocol, as `mlflow models serve` speaks it: /ping and /health for load
// balancers, /version, and /invocations taking exactly one of the four JSON input keys, or CSV.

const CONTENT_TYPES = ['application/json', 'text/csv'];
const INPUT_KEYS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

function tableOf(body: unknown) {
  if (typeof body === 'string') return fromCsv(body);
  const keys = body !== null && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : [];
  const given = INPUT_KEYS.filter((k) => keys.includes(k));
  if (given.length !== 1) throw badInput(`the body must be a JSON object with exactly one of ${INPUT_KEYS.join(', ')} (or text/csv)`);
  const key = given[0]!;
  const value = (body as Record<string, unknown>)[key];
  if (key === 'dataframe_split') return fromSplit(value);
  if (key === 'dataframe_records') return fromRecords(value);
  // instances / inputs: a list of records, or a dict of columns.
  if (Array.isArray(value)) return fromRecords(value);
  if (value !== null && typeof value === 'object') return fromColumns(value as Record<string, unknown>);
  throw badInput(`${key} must be a list of records or an object of columns`, { field: key });
}

export function mlflowRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const health = async (_req: unknown, reply: import('fastify').FastifyReply) => {
    if (!ctx.ready()) return reply.code(503).send({ status: 'loading' });
    return reply.send({ status: 'ok' });
  };
  app.get('/ping', health);
  app.get('/health', health);
  app.get('/version', async () => {
    const model = ctx.model();
    return { mlops: ctx.version, model: { name: model.name, version: model.version ?? null, source: model.source } };
  });
  app.post('/invocations', async (request) => {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!CONTENT_TYPES.includes(type)) throw new RequestError(415, `unsupported content type ${JSON.stringify(type)}; send one of ${CONTENT_TYPES.join(', ')}`);
    if (request.body === undefined) throw new RequestError(400, 'empty body');
    const scored = ctx.scorer.score(tableOf(request.body), request.id);
    return { predictions: scored.predictions };
  });
}
