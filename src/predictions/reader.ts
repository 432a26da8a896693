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
  /** `false`: rows come without `probabilities` (a drift check reads only the inputs). */
  readonly probabilities?: boolean;
}

/**
 * The read side of the prediction log, shared by `mlops predictions` and monitoring. Rows come in
 * time order and are streamed, so a check over a million rows never holds them all.
 */
export interface PredictionReader {
  rows(query: PredictionQuery): AsyncIterable<PredictionRecord>;
  count(query: PredictionQuery): Promise<number>;
  /** The outcomes loaded beside the log (`mlops predictions label`). */
  labels(query: LabelQuery): Promise<LabelRecord[]>;
  close(): Promise<void>;
}
