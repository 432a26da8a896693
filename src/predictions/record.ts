/**
 * One predicted row as the log keeps it: the raw input (monitoring compares raw data, not features),
 * what the model answered, and which model version answered it.
 */
export interface PredictionRecord {
  readonly request_id: string;
  /** ISO 8601 in UTC (`Date.toISOString()`), so text order is time order. */
  readonly time: string;
  readonly model: { readonly name: string; readonly version?: number };
  readonly input: Record<string, string | number | null>;
  /** The class of a classifier, the value of a regressor. */
  readonly prediction: string | number;
  /** Each class's probability (classifiers only). */
  readonly probabilities?: Record<string, number>;
  readonly latency_ms: number;
}

/** Where a server's predictions go. Written off the request path; `close` writes what is pending. */
export interface PredictionLog {
  append(records: readonly PredictionRecord[]): void;
  /** Rows accepted but not yet written. */
  readonly backlog: number;
  flush(): Promise<void>;
  close(): Promise<void>;
}
