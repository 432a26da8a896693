import { ConfigError } from '../core/errors.js';
import type { LabelRecord } from '../predictions/labels.js';
import { openLabelWriter, openPredictionReader } from '../predictions/open.js';
import type { Project } from '../project/project.js';
import { checkLabel, readLabels, RowKeys } from './outcomes.js';

// `mlops predictions label FILE`: outcomes loaded into the labels table beside the prediction log, so
// a settlement job needs no file at hand (`monitor outcomes` without --labels reads the table). The
// file is checked whole against the log before anything is written: a duplicate or empty id, an id
// no logged prediction has, a label outside that prediction's classes is one line, nothing written.

export interface LoadLabelsOptions {
  readonly file: string;
  readonly idColumn: string;
  readonly labelColumn: string;
}

export interface LoadedLabels {
  readonly labels: number;
  /** Labels that replaced one loaded before under the same id (loading is an upsert). */
  readonly replaced: number;
}

export async function loadLabels(project: Project, options: LoadLabelsOptions): Promise<LoadedLabels> {
  const labels = readLabels(options.file, options.idColumn, options.labelColumn);
  const found = new Map<string, LabelRecord>();
  // The log in order, once, until every id is found: each id's first prediction is the one labelled.
  const reader = await openPredictionReader(project);
  try {
    const keys = new RowKeys(options.idColumn);
    for await (const record of reader.rows({})) {
      for (const id of keys.of(record)) {
        const truth = labels.byKey.get(id);
        if (truth === undefined || found.has(id)) continue;
        checkLabel(record, truth, labels);
        found.set(id, { id_column: options.idColumn, id, label: truth.label, model: record.model.name, time: record.time });
      }
      // Every id has its first prediction: the rest of the log cannot change what is loaded.
      if (found.size === labels.byKey.size) break;
    }
  } finally {
    await reader.close();
  }
  for (const [id, { line }] of labels.byKey) {
    if (!found.has(id)) {
      const by = options.idColumn === 'request_id' ? 'request id' : `request id or logged key '${options.idColumn}'`;
      throw new ConfigError(`unknown id ${JSON.stringify(id)}: no logged prediction has this ${by}`, { file: labels.file, line, key: options.idColumn });
    }
  }
  const writer = await openLabelWriter(project);
  try {
    return { labels: found.size, replaced: await writer.putLabels([...found.values()]) };
  } finally {
    await writer.close();
  }
}
