import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServedModel } from './model.js';

// Prometheus metrics with conventional names (`_total` counters, `_seconds` histograms, an `_info`
// gauge for the model version). Route labels are route templates, never raw URLs, so a scan of
// unknown paths cannot grow the series without bound.

/**
 * Increments of a labelled counter kept as plain numbers, keyed by their label values, and added to
 * the counter when it is read (each scrape): prom-client hashes and checks the labels on every inc,
 * a quarter of a microsecond per request for the request counter.
 */
class Tally<L extends string> {
  private readonly pending = new Map<string, { readonly labels: Record<L, string>; n: number }>();

  add(key: string, labels: () => Record<L, string>, n: number): void {
    const entry = this.pending.get(key);
    if (entry) entry.n += n;
    else this.pending.set(key, { labels: labels(), n });
  }

  addTo(counter: Counter<L>): void {
    for (const entry of this.pending.values()) {
      if (entry.n > 0) counter.inc(entry.labels, entry.n);
      entry.n = 0;
    }
  }
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requestTally = new Tally<'route' | 'method' | 'status'>();
  private readonly classTally = new Tally<'class'>();
  private readonly requests: Counter<'route' | 'method' | 'status'> = new Counter({
    name: 'mlops_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [this.registry],
    collect: (): void => this.requestTally.addTo(this.requests),
  });
  private readonly latency = new Histogram({
    name: 'mlops_http_request_duration_seconds',
    help: 'HTTP request latency in seconds by route',
    labelNames: ['route'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly rows = new Counter({ name: 'mlops_predicted_rows_total', help: 'Rows predicted', registers: [this.registry] });
  private readonly classes: Counter<'class'> = new Counter({
    name: 'mlops_predictions_total',
    help: 'Predicted rows by class',
    labelNames: ['class'],
    registers: [this.registry],
    collect: (): void => this.classTally.addTo(this.classes),
  });
  private readonly unseen = new Counter({ name: 'mlops_unseen_categories_total', help: 'Input values of a categorical column not seen in training', labelNames: ['column'], registers: [this.registry] });
  // With several workers the primary adds their metrics up; the model a worker serves is 1, not N.
  private readonly info = new Gauge({ name: 'mlops_model_info', help: 'The model being served (value 1)', labelNames: ['name', 'version', 'source'], registers: [this.registry], aggregator: 'max' });
  /** The text a scrape gets: this process's metrics, or (in a worker) the whole cluster's. */
  text: () => Promise<string> = () => this.registry.metrics();

  /** `backlog` is read at each scrape, so the gauge is never stale. */
  constructor(backlog: () => number) {
    new Gauge({
      name: 'mlops_prediction_log_backlog',
      help: 'Predicted rows waiting to be written to the prediction log',
      registers: [this.registry],
      collect() {
        this.set(backlog());
      },
    });
  }

  request(route: string, method: string, status: number, seconds: number): void {
    this.requestTally.add(`${status} ${method} ${route}`, () => ({ route, method, status: String(status) }), 1);
    this.latency.observe({ route }, seconds);
  }

  /** `rows` predicted, with a classifier's class indexes to count by class. */
  predicted(rows: number, unseen: Map<string, number>, byClass?: { classes: readonly string[]; predicted: Int32Array }): void {
    this.rows.inc(rows);
    if (byClass) {
      const { classes, predicted } = byClass;
      for (let i = 0; i < predicted.length; i++) {
        const name = classes[predicted[i]!]!;
        this.classTally.add(name, () => ({ class: name }), 1);
      }
    }
    for (const [column, n] of unseen) this.unseen.inc({ column }, n);
  }

  serving(model: ServedModel): void {
    this.info.reset();
    this.info.set({ name: model.name, version: model.version === undefined ? '' : String(model.version), source: model.source }, 1);
  }
}
