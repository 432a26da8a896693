import { isAbsolute, relative } from 'node:path';
import { UsageError } from '../core/errors.js';
import { openPredictionReader, predictionLogUri } from '../predictions/open.js';
import type { PredictionReader } from '../predictions/reader.js';
import type { Project } from '../project/project.js';
import { withoutPassword } from '../sql/uri.js';
import { postAlert, type AlertSummary } from './alert.js';
import { someRows, type MonitorDriftOptions, type MonitorWindow } from './drift.js';
import { monitoredModel, trainingReferences, type MonitoredModel } from './model.js';
import { checkGates, readLabels, settleOutcomes, tableLabels, type Gate, type GateCheck, type OutcomeReport } from './outcomes.js';
import { driftWindowsOf } from './parallel.js';
import type { Period } from './period.js';
import { recordDriftCheck, recordOutcomeCheck } from './track.js';

// One monitoring check from start to end: resolve the model, read the log, compute, record the run,
// alert. Everything that can be wrong with the input is found before the run is recorded.

export interface CheckCommon {
  readonly uri: string;
  readonly period: Period;
  readonly alertWebhook?: URL;
  /** Told what the user cannot otherwise see (a webhook that failed). */
  readonly warn: (message: string) => void;
}

interface ModelShown {
  uri: string;
  name: string;
  version: number;
  versions: readonly number[];
}

interface PeriodShown {
  from: string;
  to: string;
  window_seconds: number;
}

/** A window of one version's (or versions') rows, tested against their own training reference. */
export interface CheckedWindow extends MonitorWindow {
  versions: readonly number[];
  /** The version whose reference.csv the rows were compared with. */
  reference_version: number;
}

export interface DriftCheck {
  model: ModelShown;
  period: PeriodShown;
  settings: Record<string, string | number>;
  /** Any window drifted. */
  drift: boolean;
  drifted_windows: number;
  too_small_windows: number;
  windows: CheckedWindow[];
  run_id?: string;
}

export interface OutcomeCheck {
  model: ModelShown;
  period: PeriodShown;
  labels: string;
  overall: OutcomeReport['overall'];
  windows: OutcomeReport['windows'];
  by_version: OutcomeReport['by_version'];
  unmatched: OutcomeReport['unmatched'];
  classes: string[];
  gates: GateCheck[];
  passed: boolean;
  run_id?: string;
}

const shownModel = (m: MonitoredModel): ModelShown => ({ uri: m.uri, name: m.name, version: m.version.version, versions: m.versions });
const shownPeriod = (p: Period): PeriodShown => ({ from: p.from.toISOString(), to: p.to.toISOString(), window_seconds: p.window / 1000 });

async function withReader<T>(project: Project, fn: (reader: PredictionReader) => Promise<T>): Promise<T> {
  const reader = await openPredictionReader(project);
  try {
    return await fn(reader);
  } finally {
    await reader.close();
  }
}

export interface DriftCheckOptions extends CheckCommon, MonitorDriftOptions {
  readonly failOnDrift: boolean;
}

/** The drift report alone: nothing recorded, nobody alerted (what `mlops ui` shows, read-only). */
export async function driftReport(project: Project, options: { readonly uri: string; readonly period: Period } & MonitorDriftOptions): Promise<DriftCheck> {
  const model = await monitoredModel(project, options.uri, options.period);
  const groups = await trainingReferences(project, model);
  const log = { uri: predictionLogUri(project), root: project.root };
  // Only the test settings go to the workers (a callback or a URL cannot be sent to a thread).
  const { columns, test, alternative, threshold, correction, rule, wassersteinThreshold, psiThreshold, minRows } = options;
  const settings = { columns, test, alternative, threshold, correction, rule, wassersteinThreshold, psiThreshold, minRows };
  // Opened here first, so a bad predictions.uri is reported with its config file and line.
  const windows = await withReader(project, async (reader) => {
    const parts: CheckedWindow[][] = [];
    for (const { version, versions, reference } of groups) {
      const tested = await driftWindowsOf(reader, log, { model: model.name, versions }, reference, options.period, settings);
      parts.push(tested.map((w) => ({ ...w, versions, reference_version: version })));
    }
    return someRows(byWindow(parts), { model: model.name, versions: model.versions }, options.period);
  });
  const drifted = windows.filter((w) => w.drift === true).length;
  return {
    model: shownModel(model),
    period: shownPeriod(options.period),
    settings: { test, alternative, threshold, correction, rule, wasserstein_threshold: wassersteinThreshold, psi_threshold: psiThreshold, min_rows: minRows },
    drift: drifted > 0,
    drifted_windows: drifted,
    too_small_windows: windows.filter((w) => w.status === 'too_small').length,
    windows,
  };
}

/**
 * The windows of each reference group merged in time order: a window lists the groups that had rows
 * in it (a version not yet promoted adds nothing), or, when none had, one empty window of them all.
 */
function byWindow(parts: readonly CheckedWindow[][]): CheckedWindow[] {
  if (parts.length === 1) return parts[0]!;
  return parts[0]!.flatMap((_, i) => {
    const some = parts.map((p) => p[i]!).filter((w) => w.rows > 0);
    return some.length > 0 ? some : [{ ...parts[0]![i]!, versions: parts.flatMap((p) => p[0]!.versions).sort((a, b) => a - b) }];
  });
}

export async function runDriftCheck(project: Project, options: DriftCheckOptions): Promise<DriftCheck> {
  const check = await driftReport(project, options);
  const { windows } = check;
  const drifted = check.drifted_windows;
  check.run_id = await recordDriftCheck(project, check, options.failOnDrift && check.drift);
  if (check.drift) {
    const which = windows.filter((w) => w.drift).map((w) => ({ from: w.from, to: w.to, share: w.share, columns: w.drifted_columns }));
    await alert(options, check, 'drift', `drift in ${drifted} of ${windows.length} windows of ${check.model.uri} (${which.map((w) => w.columns.join(', ')).at(-1)})`, which);
  }
  return check;
}

export interface OutcomeCheckOptions extends CheckCommon {
  /** The labels file; none: the labels table beside the prediction log (`mlops predictions label`). */
  readonly labels?: string;
  readonly labelsShown?: string;
  readonly idColumn: string;
  readonly labelColumn: string;
  readonly gates: readonly Gate[];
  readonly minRows: number;
}

export async function runOutcomeCheck(project: Project, options: OutcomeCheckOptions): Promise<OutcomeCheck> {
  const model = await monitoredModel(project, options.uri, options.period);
  const file = options.labels === undefined ? undefined : readLabels(options.labels, options.idColumn, options.labelColumn);
  const uri = predictionLogUri(project);
  const table = `the labels table of ${isAbsolute(uri) ? relative(project.root, uri) : withoutPassword(uri)}`;
  const { period, idColumn } = options;
  const report = await withReader(project, async (reader) => {
    if (file) return settleOutcomes(reader, { model: model.name, versions: model.versions }, file, idColumn, period);
    const labels = tableLabels(await reader.labels({ idColumn, model: model.name, from: period.from, to: period.to }), table);
    if (labels.byKey.size === 0) {
      throw new UsageError(`no labels by ${idColumn} for ${model.name} predictions from ${period.from.toISOString()} to ${period.to.toISOString()} in ${table} (load them with 'mlops predictions label FILE', or give --labels FILE)`);
    }
    return settleOutcomes(reader, { model: model.name, versions: model.versions }, labels, idColumn, period);
  });
  const gates = checkGates(report, options.gates, options.minRows);
  const check: OutcomeCheck = { model: shownModel(model), period: shownPeriod(period), labels: options.labelsShown ?? table, ...report, gates, passed: gates.every((g) => g.passed) };
  check.run_id = await recordOutcomeCheck(project, check, !check.passed);
  if (!check.passed) {
    const failed = gates.filter((g) => !g.passed);
    const text = `${model.uri}: ${failed.map((g) => `${g.metric} ${g.actual.toFixed(4)} ${g.bound === 'min' ? '<' : '>'} ${g.value} (${g.where})`).join('; ')}`;
    await alert(options, check, 'outcomes', text, failed);
  }
  return check;
}

async function alert(options: CheckCommon, check: DriftCheck | OutcomeCheck, kind: AlertSummary['check'], text: string, details: unknown): Promise<void> {
  if (!options.alertWebhook) return;
  const summary: AlertSummary = { check: kind, status: 'failed', text, model: check.model.uri, from: check.period.from, to: check.period.to, run_id: check.run_id!, details };
  const problem = await postAlert(options.alertWebhook, summary);
  if (problem) options.warn(`warning: alert not delivered: ${problem}`);
}
