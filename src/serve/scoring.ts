import { argmaxRows } from '../ml/forest.js';
import type { Cell, RawTable } from '../ml/raw.js';
import type { Transform } from '../ml/transform.js';
import type { PredictionLog, PredictionRecord } from '../predictions/record.js';
import { checkTable, unseenCategories } from './input.js';
import type { ServerMetrics } from './metrics.js';
import type { ServedModel } from './model.js';
import { timeOrderedId } from './request-id.js';

/** A scored batch: the model that answered (one model per request, even across a switch) and rows. */
export interface Scored {
  readonly model: ServedModel;
  /** The classes of a classifier; empty for a regressor. */
  readonly classes: readonly string[];
  /** Per row: the predicted class (classifier) or value (regressor). */
  readonly predictions: (string | number)[];
  /** A classifier's row-major probabilities, one row of `classes.length` per input row. */
  readonly proba?: Float64Array;
}

/** A request body as a table; given the transform and the key column, for what parsing needs of them (CSV's na_values, the key as text). */
export type TableInput = RawTable | ((transform: Transform, keyColumn?: string) => RawTable);

// Answers carry no float noise: probabilities are rounded to 15 decimal places (0.30000000000000004
// is answered, and logged, as 0.3; one multiply and round a value, where toPrecision would cost more
// than the forest on a large batch), after the class is chosen from the exact values; a regressor's
// value keeps 15 significant digits, as `mlops predict` prints it.
const PROBABILITY_SCALE = 1e15;
const roundProbability = (p: number) => Math.round(p * PROBABILITY_SCALE) / PROBABILITY_SCALE;
const roundValue = (v: number) => Number(v.toPrecision(15));

/** What every protocol shares: check the table, predict, count, log the raw rows. */
export class Scorer {
  constructor(
    private readonly current: () => ServedModel,
    private readonly metrics: ServerMetrics,
    private readonly log: PredictionLog,
    /** The client's own key column (`serve --id-column`): logged with each row's input, never scored. */
    private readonly keyColumn?: string,
  ) {}

  private logged?: { readonly model: ServedModel; readonly as: PredictionRecord['model'] };

  score(input: TableInput, requestId: string = timeOrderedId()): Scored {
    const started = performance.now();
    const model = this.current();
    const { predictor } = model;
    const table = checkTable(typeof input === 'function' ? input(predictor.transform, this.keyColumn) : input, predictor.transform, this.keyColumn);
    const output = predictor.output(table);
    const regression = predictor.saved.task === 'regression';
    const classes = regression ? [] : predictor.classes;
    let predictions: (string | number)[];
    let proba: Float64Array | undefined;
    if (regression) {
      predictions = Array.from(output, roundValue);
      this.metrics.predicted(predictions.length, unseenCategories(table, predictor.transform));
    } else {
      const predicted = argmaxRows(output, classes.length);
      proba = output.map(roundProbability);
      predictions = Array.from(predicted, (k) => classes[k]!);
      this.metrics.predicted(predictions.length, unseenCategories(table, predictor.transform), { classes, predicted });
    }
    this.log.append(this.records(model, table, predictions, classes, proba, requestId, performance.now() - started));
    return { model, classes, predictions, proba };
  }

  /** One record per row, built with plain loops: this runs on the request path for every row. */
  private records(model: ServedModel, table: RawTable, predictions: (string | number)[], classes: readonly string[], proba: Float64Array | undefined, requestId: string, latency: number): PredictionRecord[] {
    const time = isoNow();
    const as = this.loggedAs(model);
    const C = classes.length;
    const { columns, values } = table;
    const records: PredictionRecord[] = new Array(predictions.length);
    for (let i = 0; i < predictions.length; i++) {
      const input: Record<string, Cell> = {};
      for (let j = 0; j < columns.length; j++) input[columns[j]!] = values[j]![i] ?? null;
      if (proba === undefined) {
        records[i] = { request_id: requestId, time, model: as, input, prediction: predictions[i]!, latency_ms: latency };
        continue;
      }
      const probabilities: Record<string, number> = {};
      for (let k = 0; k < C; k++) probabilities[classes[k]!] = proba[i * C + k]!;
      records[i] = { request_id: requestId, time, model: as, input, prediction: predictions[i]!, probabilities, latency_ms: latency };
    }
    return records;
  }

  /**
   * The model as records name it: one object per served model, shared by all its records (they are
   * read-only), so a batch handed to the log's thread carries it once, not once per row.
   */
  private loggedAs(model: ServedModel): PredictionRecord['model'] {
    if (this.logged?.model !== model) this.logged = { model, as: { name: model.name, version: model.version } };
    return this.logged.as;
  }
}

let lastMs = -1;
let lastIso = '';
/** Now as ISO 8601 text; requests in the same millisecond share the string (toISOString costs half a microsecond). */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
