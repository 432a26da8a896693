import type { FastifyInstance } from 'fastify';
import { fromRecords } from './input.js';
import type { ServerContext } from './context.js';

// POST /predict, for people: one record or a list of records with the raw training columns, answered
// with the class and every class's probability per row, and the request id the log keys them by.

export function predictRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/predict', async (request) => {
    const scored = ctx.scorer.score(fromRecords(request.body ?? []), request.id);
    const C = scored.classes.length;
    return {
      request_id: request.id,
      model: { name: scored.model.name, version: scored.model.version ?? null },
      predictions: scored.labels.map((label, i) => ({
        class: label,
        probabilities: Object.fromEntries(scored.classes.map((c, k) => [c, scored.proba[i * C + k]!])),
      })),
    };
  });
}
