import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { columnKeys } from '../drift/track.js';
import type { Project } from '../project/project.js';
import type { TrackedRun } from '../tracking/run.js';
import { startRun } from '../tracking/tracked-run.js';
import type { DriftCheck, OutcomeCheck } from './check.js';

// Every check is a tracked run (stage `monitor-drift` / `monitor-outcomes`), so `mlops runs` lists
// them and `mlops plots` draws drift and realized accuracy over time. Windows are the metrics' steps.
// The run is recorded after the check has been computed: bad input leaves no run behind.

async function recorded(project: Project, stageName: string, failed: boolean, fn: (run: TrackedRun) => Promise<void>): Promise<string> {
  const run = await startRun({ project, stageName });
  try {
    await fn(run);
  } catch (error) {
    await run.end('FAILED');
    throw error;
  }
  await run.end(failed ? 'FAILED' : 'FINISHED');
  return run.runId;
}

/** The whole report as the run's artifact (report.json). */
async function logReport(run: TrackedRun, name: string, report: unknown): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mlops-monitor-'));
  try {
    const file = join(dir, name);
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    await run.logArtifact(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function recordDriftCheck(project: Project, check: DriftCheck, failed: boolean): Promise<string> {
  return recorded(project, 'monitor-drift', failed, async (run) => {
    const { model, period, settings, windows } = check;
    await run.logParams({ model: model.uri, versions: model.versions.join(','), ...period, ...settings });
    const names = Object.keys(windows.find((w) => w.status !== 'too_small')?.columns ?? {});
    const keys = columnKeys(names);
    const from = Date.parse(period.from);
    for (const w of windows) {
      // The window's index is the step: when the alias moved, a window has one entry per reference (both at its step).
      const step = Math.round((Date.parse(w.from) - from) / (period.window_seconds * 1000));
      const metrics: Record<string, number> = { rows: w.rows, reference_version: w.reference_version };
      if (w.drift !== null) {
        Object.assign(metrics, { drift: w.drift ? 1 : 0, drift_share: w.share!, drifted_columns: w.drifted_columns.length });
        names.forEach((name, i) => {
          const c = w.columns[name]!;
          metrics[`p_value/${keys[i]}`] = c.p_value;
          metrics[`distance/${keys[i]}`] = c.distance;
          metrics[`psi/${keys[i]}`] = c.psi;
        });
      }
      await run.logMetrics(metrics, step);
    }
    await run.setTags({ 'mlops.monitor.model': model.uri, 'mlops.monitor.drifted_windows': String(check.drifted_windows) });
    await logReport(run, 'monitor_drift.json', check);
  });
}

export function recordOutcomeCheck(project: Project, check: OutcomeCheck, failed: boolean): Promise<string> {
  return recorded(project, 'monitor-outcomes', failed, async (run) => {
    const { model, period } = check;
    const report = check;
    await run.logParams({ model: model.uri, versions: model.versions.join(','), ...period, labels: check.labels });
    for (const [step, w] of report.windows.entries()) {
      const metrics: Record<string, number> = { rows: w.rows };
      for (const key of ['accuracy', 'f1_macro', 'log_loss', 'brier'] as const) if (w[key] !== null) metrics[key] = w[key];
      await run.logMetrics(metrics, step);
    }
    const overall: Record<string, number> = { unmatched_labels: report.unmatched.labels, unmatched_predictions: report.unmatched.predictions, overall_rows: report.overall.rows };
    for (const key of ['accuracy', 'f1_macro', 'log_loss', 'brier'] as const) if (report.overall[key] !== null) overall[`overall_${key}`] = report.overall[key];
    await run.logMetrics(overall);
    await run.setTags({ 'mlops.monitor.model': model.uri, 'mlops.monitor.gates': check.gates.every((g) => g.passed) ? 'passed' : 'failed' });
    await logReport(run, 'monitor_outcomes.json', check);
  });
}
