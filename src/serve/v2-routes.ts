import type { FastifyInstance } from 'fastify';
import { RequestError, badInput } from './errors.js';
import { fromColumns } from './input.js';
import type { ServerContext } from './context.js';

// The Open Inference Protocol (v2) of KServe, Triton and Seldon MLServer. One input tensor per raw
// column (its name, a shape of [rows] and the values), as the raw columns have different types;
// a classifier answers two output tensors, the predicted class (BYTES) and the probabilities (FP64,
// [rows, classes]); a regressor one, the predicted value (FP64).

interface Tensor {
  name?: unknown;
  shape?: unknown;
  datatype?: unknown;
  data?: unknown;
}

function tableOf(body: unknown) {
  const inputs = (body as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw badInput('"inputs" must be a non-empty list of tensors, one per column');
  const columns: Record<string, unknown[]> = {};
  inputs.forEach((t: Tensor, i) => {
    if (typeof t?.name !== 'string' || !Array.isArray(t.data)) throw badInput('each input needs a "name" (the column) and "data" (its values)', { field: `inputs.${i}` });
    columns[t.name] = t.data.flat();
  });
  return fromColumns(columns);
}

export function v2Routes(app: FastifyInstance, ctx: ServerContext): void {
  const named = (name: string) => {
    const model = ctx.model();
    if (name !== model.name) throw new RequestError(404, `unknown model ${JSON.stringify(name)}; this server serves ${JSON.stringify(model.name)}`);
    return model;
  };
  app.get('/v2', async () => ({ name: 'mlops', version: ctx.version, extensions: [] }));
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_req, reply) => reply.code(ctx.ready() ? 200 : 503).send({ ready: ctx.ready() }));
  app.get<{ Params: { name: string } }>('/v2/models/:name/ready', async (req) => (named(req.params.name), { name: req.params.name, ready: ctx.ready() }));
  app.get<{ Params: { name: string } }>('/v2/models/:name', async (req) => {
    const model = named(req.params.name);
    const { transform, classes, saved } = model.predictor;
    return {
      name: model.name,
      versions: model.version === undefined ? [] : [String(model.version)],
      platform: 'mlops-random-forest',
      inputs: transform.columns.map((c) => ({ name: c.name, datatype: c.kind === 'numeric' ? 'FP64' : 'BYTES', shape: [-1] })),
      outputs:
        saved.task === 'regression'
          ? [{ name: 'predict', datatype: 'FP64', shape: [-1] }]
          : [
              { name: 'predict', datatype: 'BYTES', shape: [-1] },
              { name: 'predict_proba', datatype: 'FP64', shape: [-1, classes.length] },
            ],
    };
  });
  app.post<{ Params: { name: string } }>('/v2/models/:name/infer', async (req) => {
    named(req.params.name);
    const { id } = (req.body ?? {}) as { id?: unknown };
    const { model, predictions, proba, classes } = ctx.scorer.score(tableOf(req.body), req.id);
    const n = predictions.length;
    return {
      model_name: model.name,
      model_version: model.version === undefined ? undefined : String(model.version),
      id: typeof id === 'string' ? id : req.id,
      outputs:
        proba === undefined
          ? [{ name: 'predict', datatype: 'FP64', shape: [n], data: predictions }]
          : [
              { name: 'predict', datatype: 'BYTES', shape: [n], data: predictions },
              { name: 'predict_proba', datatype: 'FP64', shape: [n, classes.length], data: Array.from(proba) },
            ],
    };
  });
}
