import type { FastifyInstance } from 'fastify';
import { fromRecords } from './input.js';
import type { ServerContext } from './context.js';

// POST /predict, for people: one record or a list of records with the raw training columns, answered
// per row with the class and every class's probability (a classifier) or `{"value": x}` (a
// regressor), and the request id the log keys them by.

export function predictRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/predict', async (request) => {
    const scored = ctx.scorer.score(fromRecords(request.body ?? []), request.id);
    const { classes, proba } = scored;
    const C = classes.length;
    return {
      request_id: request.id,
      model: { name: scored.model.name, version: scored.model.version ?? null },
      predictions: scored.predictions.map((p, i) =>
        proba === undefined ? { value: p } : { class: p, probabilities: Object.fromEntries(classes.map((c, k) => [c, proba[i * C + k]!])) },
      ),
    };
  });
}
