import type { LabelQuery, LabelRecord } from './labels.js';
import type { PredictionRecord } from './record.js';

/** Which logged predictions to read back: one model (optionally some of its versions) in [from, to). */
export interface PredictionQuery {
  readonly model?: string;
  readonly versions?: readonly number[];
  /** Inclusive lower bound on the record's time. */
  readonly from?: Date;
  /** Exclusive upper bound on the record's time. */
  readonly to?: Date;
  readonly limit?: number;
  /** With `limit`: the newest `limit` rows rather than the oldest (still returned in time order). */
  readonly newest?: boolean;
}

/** A logged row's time and raw input: what a drift check compares. */
export type LoggedInput = Pick<PredictionRecord, 'time' | 'input'>;

/**
 * The read side of the prediction log, shared by `mlops predictions` and monitoring. Rows come in
 * time order and are streamed, so a check over a million rows never holds them all.
 */
export interface PredictionReader {
  rows(query: PredictionQuery): AsyncIterable<PredictionRecord>;
  /** The same rows' times and raw inputs only (`probabilities` and `newest` do not apply). */
  inputs(query: PredictionQuery): AsyncIterable<LoggedInput>;
  count(query: PredictionQuery): Promise<number>;
  /** The outcomes loaded beside the log (`mlops predictions label`). */
  labels(query: LabelQuery): Promise<LabelRecord[]>;
  close(): Promise<void>;
}
