import { listColumns, parseTypedCsv } from '../core/csv.js';
import { ConfigError, UsageError } from '../core/errors.js';
import { readText } from '../core/files.js';
import { brier, logLoss, score } from '../ml/metrics.js';
import type { LabelRecord } from '../predictions/labels.js';
import type { PredictionReader } from '../predictions/reader.js';
import type { PredictionRecord } from '../predictions/record.js';
import type { DriftQuery } from './drift.js';
import { windowAt, windowCount, windowIndex, type Period } from './period.js';

// `monitor outcomes` (results settlement): the ground truth that arrived later, joined to the logged
// predictions by request id or by the client's own key, scored as evaluate scores a test set, per
// window and per model version. A request of several rows logs them under one id in order: its rows
// are ID:0, ID:1, ... (ID:0 may also be given as ID). Every label and prediction that found no
// partner is counted, never dropped.

export interface Label {
  readonly label: string;
  /** The labels file's line; none for labels read from the labels table. */
  readonly line?: number;
}

export interface Labels {
  /** The labels file, or the labels table, as messages name it. */
  readonly file: string;
  readonly column: string;
  readonly byKey: ReadonlyMap<string, Label>;
}

/** The labels file: one row per id, each id once, every label filled. */
export function readLabels(path: string, idColumn: string, labelColumn: string): Labels {
  const { file, text } = readText(path);
  // Both columns as written: an id 007 or a class "1.0" must stay what it is.
  const table = parseTypedCsv(text, file, { textColumns: [idColumn, labelColumn] });
  for (const column of [idColumn, labelColumn]) {
    if (!table.columns.includes(column)) throw new ConfigError(`no column '${column}' (columns: ${listColumns(table.columns)})`, { file, line: table.lines[0]! - 1 });
  }
  const ids = table.values[table.columns.indexOf(idColumn)]!;
  const labels = table.values[table.columns.indexOf(labelColumn)]!;
  const byKey = new Map<string, Label>();
  ids.forEach((cell, r) => {
    const line = table.lines[r]!;
    const id = String(cell ?? '').trim();
    const label = String(labels[r] ?? '').trim();
    if (id === '') throw new ConfigError('empty id', { file, line, key: idColumn });
    if (label === '') throw new ConfigError(`no label for id ${JSON.stringify(id)}`, { file, line, key: labelColumn });
    const first = byKey.get(id);
    if (first) throw new ConfigError(`duplicate id ${JSON.stringify(id)} (first on line ${first.line})`, { file, line, key: idColumn });
    byKey.set(id, { label, line });
  });
  return { file, column: labelColumn, byKey };
}

/** Labels read back from the labels table (`mlops predictions label` loaded them, checked). */
export function tableLabels(records: readonly LabelRecord[], shown: string): Labels {
  return { file: shown, column: 'label', byKey: new Map(records.map((r) => [r.id, { label: r.label }])) };
}

/**
 * The label ids a logged row answers to, tried in order: the client's key, when the row was logged
 * with one in the id column (`serve --id-column`); else its request id, as ID (a request's first
 * row) or ID:n. Rows must come in log order (a request's rows are logged together), so that each
 * request's rows are counted.
 */
export class RowKeys {
  private last = '';
  private n = 0;

  constructor(private readonly idColumn: string) {}

  of(record: PredictionRecord): string[] {
    this.n = record.request_id === this.last ? this.n + 1 : 0;
    this.last = record.request_id;
    const key = Object.hasOwn(record.input, this.idColumn) ? record.input[this.idColumn] : null;
    if (key !== null && key !== '') return [String(key)];
    return this.n === 0 ? [record.request_id, `${record.request_id}:0`] : [`${record.request_id}:${this.n}`];
  }
}

/** A label must be one of the classes the model answered with; a regressor has no outcomes to settle. */
export function checkLabel(record: PredictionRecord, truth: Label, labels: Labels): string[] {
  if (!record.probabilities) throw new UsageError(`${record.model.name} logged no class probabilities (a regressor?); monitor outcomes scores classifiers`);
  const classes = Object.keys(record.probabilities);
  if (!classes.includes(truth.label)) {
    throw new ConfigError(`label ${JSON.stringify(truth.label)} is not one of the model's classes (${classes.join(', ')})`, { file: labels.file, line: truth.line, key: labels.column });
  }
  return classes;
}

export interface Scores {
  rows: number;
  accuracy: number | null;
  f1_macro: number | null;
  log_loss: number | null;
  brier: number | null;
}

export interface OutcomeWindow extends Scores {
  from: string;
  to: string;
}

export interface OutcomeReport {
  overall: Scores;
  windows: OutcomeWindow[];
  by_version: Record<string, Scores>;
  unmatched: { labels: number; predictions: number; label_ids: string[] };
  classes: string[];
}

/** Ids of unmatched labels listed in the report; the count is always complete. */
const LISTED_UNMATCHED = 10;

/** Joined rows of one group (a window, a version, or all): class indexes and probability rows. */
class Group {
  readonly actual: number[] = [];
  readonly predicted: number[] = [];
  readonly proba: Map<string, number>[] = [];

  add(actual: number, predicted: number, proba: Map<string, number>): void {
    this.actual.push(actual);
    this.predicted.push(predicted);
    this.proba.push(proba);
  }

  scores(classes: readonly string[]): Scores {
    const n = this.actual.length;
    if (n === 0) return { rows: 0, accuracy: null, f1_macro: null, log_loss: null, brier: null };
    const C = classes.length;
    const p = new Float64Array(n * C);
    this.proba.forEach((row, i) => classes.forEach((c, k) => (p[i * C + k] = row.get(c) ?? 0)));
    return {
      rows: n,
      accuracy: score('accuracy', this.actual, this.predicted, C),
      f1_macro: score('f1_macro', this.actual, this.predicted, C),
      log_loss: logLoss(this.actual, p, C),
      brier: brier(this.actual, p, C),
    };
  }
}

export async function settleOutcomes(reader: Pick<PredictionReader, 'rows'>, query: DriftQuery, labels: Labels, idColumn: string, period: Period): Promise<OutcomeReport> {
  const classIndex = new Map<string, number>();
  const indexOf = (c: string) => classIndex.get(c) ?? classIndex.set(c, classIndex.size).get(c)!;
  const overall = new Group();
  const windows = Array.from({ length: windowCount(period) }, () => new Group());
  const versions = new Map<string, Group>();
  const matched = new Set<string>();
  let predictions = 0;
  let unmatchedPredictions = 0;
  const keys = new RowKeys(idColumn);
  for await (const record of reader.rows({ model: query.model, versions: query.versions, from: period.from, to: period.to })) {
    const w = windowIndex(period, Date.parse(record.time));
    if (w < 0) continue;
    predictions++;
    const key = keys.of(record).find((k) => labels.byKey.has(k));
    if (key === undefined) {
      unmatchedPredictions++;
      continue;
    }
    matched.add(key);
    const truth = labels.byKey.get(key)!;
    for (const c of checkLabel(record, truth, labels)) indexOf(c);
    const proba = new Map(Object.entries(record.probabilities!));
    const actual = indexOf(truth.label);
    const predicted = indexOf(String(record.prediction));
    const version = String(record.model.version ?? 'unversioned');
    for (const group of [overall, windows[w]!, versions.get(version) ?? versions.set(version, new Group()).get(version)!]) group.add(actual, predicted, proba);
  }
  const range = `from ${period.from.toISOString()} to ${period.to.toISOString()}`;
  if (predictions === 0) throw new UsageError(`no logged predictions of ${query.model} (versions ${query.versions.join(', ')}) ${range}`);
  if (matched.size === 0) {
    throw new ConfigError(`none of the ${labels.byKey.size} ids matches one of the ${predictions} predictions logged ${range} (unknown ids; is the id column the request id, or the key the server logged?)`, { file: labels.file });
  }
  const classes = [...classIndex.keys()];
  const unmatchedLabels = [...labels.byKey.keys()].filter((k) => !matched.has(k));
  return {
    overall: overall.scores(classes),
    windows: windows.map((g, i) => {
      const { from, to } = windowAt(period, i);
      return { from: from.toISOString(), to: to.toISOString(), ...g.scores(classes) };
    }),
    by_version: Object.fromEntries([...versions.entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([v, g]) => [v, g.scores(classes)])),
    unmatched: { labels: unmatchedLabels.length, predictions: unmatchedPredictions, label_ids: unmatchedLabels.slice(0, LISTED_UNMATCHED) },
    classes,
  };
}

// Gates: `--min accuracy=0.5 --max log_loss=1.05`, on the whole period and on every window with enough rows.

export const OUTCOME_METRICS = ['accuracy', 'f1_macro', 'log_loss', 'brier'] as const;
export type OutcomeMetric = (typeof OUTCOME_METRICS)[number];

export interface Gate {
  readonly metric: OutcomeMetric;
  readonly bound: 'min' | 'max';
  readonly value: number;
}

export function parseGate(text: string, bound: 'min' | 'max'): Gate {
  const m = /^([a-z_0-9]+)=(.+)$/.exec(text.trim());
  const metric = m?.[1] as OutcomeMetric | undefined;
  const value = Number(m?.[2]);
  if (!m || !OUTCOME_METRICS.includes(metric!) || m[2]!.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(`--${bound} ${text}: expected METRIC=NUMBER with METRIC one of ${OUTCOME_METRICS.join(', ')}`);
  }
  return { metric: metric!, bound, value };
}

export interface GateCheck extends Gate {
  /** `overall`, or the window's start time. */
  readonly where: string;
  readonly actual: number;
  readonly passed: boolean;
}

export function checkGates(report: OutcomeReport, gates: readonly Gate[], minRows: number): GateCheck[] {
  const scopes: [string, Scores][] = [['overall', report.overall], ...report.windows.filter((w) => w.rows >= minRows && w.rows > 0).map((w): [string, Scores] => [w.from, w])];
  if (report.windows.length === 1) scopes.length = 1;
  return gates.flatMap((gate) =>
    scopes.map(([where, s]) => {
      const actual = s[gate.metric]!;
      return { ...gate, where, actual, passed: gate.bound === 'min' ? actual >= gate.value : actual <= gate.value };
    }),
  );
}
