import { randomUUID } from 'node:crypto';
import { argmaxRows } from '../ml/forest.js';
import type { RawTable } from '../ml/raw.js';
import { checkTable, unseenCategories } from './input.js';
import type { ServerMetrics } from './metrics.js';
import type { ServedModel } from './model.js';
import type { PredictionLog, PredictionRecord } from '../predictions/record.js';

/** A scored batch: the model that answered (one model per request, even across a switch) and rows. */
export interface Scored {
  readonly model: ServedModel;
  readonly classes: readonly string[];
  /** Predicted class name per row. */
  readonly labels: string[];
  /** Row-major probabilities, one row of `classes.length` per input row. */
  readonly proba: Float64Array;
}

/** What every protocol shares: check the table, predict, count, log the raw rows. */
export class Scorer {
  constructor(
    private readonly current: () => ServedModel,
    private readonly metrics: ServerMetrics,
    private readonly log: PredictionLog,
  ) {}

  score(table: RawTable, requestId: string = randomUUID()): Scored {
    const started = performance.now();
    const model = this.current();
    const { predictor } = model;
    checkTable(table, predictor.transform);
    const proba = predictor.output(table);
    const predicted = argmaxRows(proba, predictor.classes.length);
    const classes = predictor.classes;
    const labels = Array.from(predicted, (k) => classes[k]!);
    this.metrics.predicted(classes, predicted, unseenCategories(table, predictor.transform));
    const latency = performance.now() - started;
    const time = new Date().toISOString();
    const C = classes.length;
    const records: PredictionRecord[] = labels.map((label, i) => ({
      request_id: requestId,
      time,
      model: { name: model.name, version: model.version },
      input: Object.fromEntries(table.columns.map((c, j) => [c, table.values[j]![i] ?? null])),
      prediction: label,
      probabilities: Object.fromEntries(classes.map((c, k) => [c, proba[i * C + k]!])),
      latency_ms: latency,
    }));
    this.log.append(records);
    return { model, classes, labels, proba };
  }
}
