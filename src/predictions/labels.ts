// Ground truth kept beside the prediction log, in the same database (`mlops predictions label`
// loads it, `mlops monitor outcomes` without --labels reads it): the settlement job's outcomes table.

/** The true label of one logged prediction (or of every row logged under one client key). */
export interface LabelRecord {
  /** What `id` is: `request_id` (ID, or ID:n for row n of a batch) or the client key column `serve --id-column` logged. */
  readonly id_column: string;
  readonly id: string;
  readonly label: string;
  /** The labelled prediction's model and time (the first, for a key logged more than once): which checks see the label. */
  readonly model: string;
  /** ISO 8601 in UTC. */
  readonly time: string;
}

/** The labels a check sees: of one id column, for one model's predictions in [from, to). */
export interface LabelQuery {
  readonly idColumn: string;
  readonly model: string;
  readonly from: Date;
  readonly to: Date;
}

export interface LabelWriter {
  /** Inserts the labels, replacing those with the same id column and id, in one transaction; answers how many it replaced. */
  putLabels(labels: readonly LabelRecord[]): Promise<number>;
  close(): Promise<void>;
}
