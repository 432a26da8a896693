import { ConfigError, MlopsError, UsageError } from '../core/errors.js';
import { displayPath } from '../core/display.js';
import { compareRunData, type ComparedKey } from '../tracking/compare.js';
import { compareMetricPoints } from '../tracking/metric-file.js';
import { filterEntities, parseFilter, type Entity } from '../tracking/filter.js';
import { closeRefusal, isDead, shownStatus } from '../tracking/liveness.js';
import { keyMetrics, nestRuns, type RunGroup } from '../tracking/nesting.js';
import { parseOrderBy } from '../tracking/order-by.js';
import { resolveExperiment, type Run, type RunStatus, type SkippedRun } from '../tracking/store.js';
import { STAGE_TAG } from '../tracking/tracked-run.js';
import { color } from './color.js';
import { interactive, printJson } from './output.js';
import { projectTracking } from './project.js';
import { fitTable, terminalWidth, textTable } from './table.js';

// Printing for the runs and experiments commands; every decision about runs lives in src/tracking/.

const time = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));
const number = (v: number) => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))));
const cell = (v: string | number | null | undefined) => (v === undefined || v === null ? '-' : typeof v === 'number' ? number(v) : v);

function runJson(run: Run) {
  return { run_id: run.info.run_id, info: run.info, dead: isDead(run), params: run.params, metrics: run.metrics, tags: run.tags };
}

/** Unreadable runs: one line each on stderr, then exit 2 after the rest has been printed. */
function reportSkipped(skipped: readonly SkippedRun[]): void {
  if (skipped.length === 0) return;
  for (const s of skipped) process.stderr.write(`warning: ${displayPath(s.path)}: ${s.reason}; run skipped\n`);
  throw new ConfigError(`${skipped.length} run${skipped.length === 1 ? '' : 's'} could not be read and ${skipped.length === 1 ? 'was' : 'were'} skipped (listed above)`);
}

function entityValue(run: Run, e: Entity): string | number | undefined {
  if (e.kind === 'metric') return run.metrics[e.key];
  if (e.kind === 'param') return run.params[e.key];
  if (e.kind === 'tag') return run.tags[e.key];
  return undefined; // attributes already have their own columns
}

/** Nested runs shown under each parent by default; `--flat` (or `--json`) lists them all. */
const NESTED_SHOWN = 10;
const KEY_METRIC_COLUMNS = 4;

export async function listRuns(opts: { experiment?: string; filter?: string; orderBy: string[]; max: number; deleted?: boolean; json?: boolean; flat?: boolean }): Promise<void> {
  const { store, experiment: defaultExperiment, shown } = await projectTracking();
  const experiment = opts.experiment ? await resolveExperiment(store, opts.experiment, shown) : await store.getExperimentByName(defaultExperiment);
  // Parse before reading anything, so a malformed filter fails fast even on an empty folder.
  const extra = [...filterEntities(parseFilter(opts.filter ?? '')), ...parseOrderBy(opts.orderBy).map((k) => k.entity)].filter(
    (e, i, all) => e.kind !== 'attribute' && e.kind !== 'dataset' && all.findIndex((o) => o.kind === e.kind && o.key === e.key) === i,
  );
  const { runs, skipped } = await store.searchRuns({
    experimentIds: experiment ? [experiment.experiment_id] : [],
    filter: opts.filter,
    orderBy: opts.orderBy,
    maxResults: opts.max + 1, // one more than shown, to tell the user the list was cut
    view: opts.deleted ? 'deleted' : 'active',
  });
  if (runs.length > opts.max) {
    runs.length = opts.max;
    process.stderr.write(`note: showing the first ${opts.max} runs; use --max to see more\n`);
  }
  if (opts.json) {
    printJson(runs.map(runJson));
  } else if (runs.length === 0) {
    process.stdout.write('no runs\n');
  } else {
    const rows = opts.flat ? runs.map((run) => ({ run, name: run.info.run_name })) : nestedRows(nestRuns(runs, opts.orderBy.length > 0));
    const shown = rows.flatMap((r) => (r.run ? [r.run] : []));
    const metricKeys = keyMetrics(shown, KEY_METRIC_COLUMNS, new Set(extra.filter((e) => e.kind === 'metric').map((e) => e.key)));
    const header = ['RUN ID', 'NAME', 'STAGE', 'STATUS', 'START (UTC)', ...extra.map((e) => `${e.kind}s.${e.key}`), ...metricKeys];
    const table = rows.map(({ run: r, name }) => (r
      ? [r.info.run_id, name, r.tags[STAGE_TAG] ?? '-', shownStatus(r), time(r.info.start_time), ...extra.map((e) => cell(entityValue(r, e))), ...metricKeys.map((k) => cell(r.metrics[k]))]
      : ['', name, '', '', '', ...extra.map(() => ''), ...metricKeys.map(() => '')]));
    // On a terminal, metric columns that do not fit are left out rather than wrapped; the run's own
    // columns stay whole (an id is there to be copied).
    const width = await terminalWidth();
    const fitted = width === undefined ? { header, rows: table, hidden: 0 } : fitTable(header, table, width, 5, Infinity);
    process.stdout.write(colourRows(textTable(fitted.header, fitted.rows), rows.map(({ run }) => (run ? statusColour(shownStatus(run)) : color.dim))));
    if (fitted.hidden) process.stderr.write(`note: ${fitted.hidden} of ${header.length} columns left out to fit ${width} characters; see all with --json\n`);
  }
  reportSkipped(skipped);
}

/** Table rows: each top-level run, then its first nested runs indented, then how many more there are. */
function nestedRows(groups: RunGroup[]): { run?: Run; name: string }[] {
  return groups.flatMap(({ run, children }) => [
    { run, name: run.info.run_name },
    ...children.slice(0, NESTED_SHOWN).map((child) => ({ run: child, name: `  ${child.info.run_name}` })),
    ...(children.length > NESTED_SHOWN ? [{ name: `  ... ${children.length - NESTED_SHOWN} more nested runs (--flat lists all)` }] : []),
  ]);
}

function statusColour(status: string): (text: string) => string {
  return status === 'FINISHED' ? color.green : status === 'RUNNING' ? color.cyan : color.red;
}

function statusText(status: string): string {
  return statusColour(status)(status);
}

/** Colours whole table lines after alignment (escape codes inside cells would skew the columns). */
function colourRows(table: string, colours: readonly (((text: string) => string) | undefined)[]): string {
  if (!interactive) return table;
  const lines = table.split('\n');
  return lines.map((line, i) => (i > 0 && colours[i - 1] ? colours[i - 1]!(line) : line)).join('\n');
}

export async function showRun(runId: string, opts: { json?: boolean }): Promise<void> {
  const { store } = await projectTracking();
  const run = await store.getRun(runId);
  const history = Object.fromEntries(
    // In one order whatever the store: a folder keeps the order values were logged in, a database its own.
    await Promise.all(Object.keys(run.metrics).sort().map(async (key) => [key, (await store.getMetricHistory(runId, key)).sort(compareMetricPoints)] as const)),
  );
  if (opts.json) {
    printJson({ ...runJson(run), metric_history: history });
    return;
  }
  const { info } = run;
  const lines = [
    `run ${info.run_id}  ${info.run_name}`,
    `  status ${statusText(shownStatus(run))}${isDead(run) ? ' (RUNNING, but its process is gone: mlops runs close)' : ''}  experiment ${info.experiment_id}  user ${info.user_id}  ${info.lifecycle_stage}`,
    `  start ${time(info.start_time)}  end ${time(info.end_time) || '-'}`,
    `  artifacts ${info.artifact_uri}`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const section = (title: string, header: string[], rows: string[][]) =>
    rows.length && process.stdout.write(`${color.bold(title)}\n${textTable(header, rows)}\n`);
  const oneLine = (text: string) => text.replace(/\r?\n/g, '\\n'); // a multi-line note must not break the table
  section('params', ['KEY', 'VALUE'], Object.keys(run.params).sort().map((k) => [k, oneLine(run.params[k]!)]));
  section('metrics', ['KEY', 'LATEST', 'MIN', 'MAX', 'STEPS'], Object.entries(history).map(([key, values]) => {
    const v = values.map((m) => m.value);
    return [key, number(run.metrics[key]!), number(Math.min(...v)), number(Math.max(...v)), String(new Set(values.map((m) => m.step)).size)];
  }));
  section('tags', ['KEY', 'VALUE'], Object.keys(run.tags).sort().map((k) => [k, oneLine(run.tags[k]!)]));
  // Through the store: a folder, or a database store's S3 artifact root. Artifacts out of its reach
  // (a location outside the artifact root) do not hide the rest of the run.
  const artifacts = await store.listArtifacts(runId).catch((error: unknown) => {
    if (!(error instanceof MlopsError)) throw error;
    process.stdout.write(`artifacts: not listed (${error.message})\n`);
    return [];
  });
  section('artifacts', ['PATH', 'BYTES'], artifacts.map((f) => [oneLine(f.path), String(f.size)]));
}

export async function compareRunsCommand(runIds: string[], opts: { onlyDiff?: boolean; json?: boolean }): Promise<void> {
  const { store } = await projectTracking();
  const runs: Run[] = [];
  for (const id of runIds) runs.push(await store.getRun(id));
  const comparison = compareRunData(runs);
  const keep = (rows: ComparedKey[]) => (opts.onlyDiff ? rows.filter((r) => r.differs) : rows);
  if (opts.json) {
    const asObject = (rows: ComparedKey[]) => Object.fromEntries(keep(rows).map(({ key, values, differs }) => [key, { values, differs }]));
    printJson({ runs: runs.map((r) => ({ run_id: r.info.run_id, run_name: r.info.run_name })), params: asObject(comparison.params), metrics: asObject(comparison.metrics) });
    return;
  }
  const short = runs.map((r) => r.info.run_id.slice(0, 8));
  for (const [i, r] of runs.entries()) process.stdout.write(`${short[i]}  ${r.info.run_name}\n`);
  process.stdout.write('\n');
  const rows = [
    ...keep(comparison.params).map((r) => ({ ...r, key: `params.${r.key}` })),
    ...keep(comparison.metrics).map((r) => ({ ...r, key: `metrics.${r.key}` })),
  ];
  const table = textTable(['', 'KEY', ...short], rows.map((r) => [r.differs ? '*' : '', r.key, ...r.values.map(cell)]));
  process.stdout.write(rows.length ? colourRows(table, rows.map((r) => (r.differs ? color.yellow : undefined))) : 'no differences\n');
}

export async function deleteRunCommand(runIds: string[]): Promise<void> {
  const { store } = await projectTracking();
  for (const id of runIds) await store.getRun(id); // every id checked before any is deleted
  for (const id of runIds) {
    await store.deleteRun(id);
    process.stdout.write(`deleted run ${id}\n`);
  }
}

/** Ends RUNNING runs whose process is gone: the named ones, or with `stale` every dead one of the experiment. */
export async function closeRunsCommand(runIds: string[], opts: { stale?: boolean; experiment?: string; status: string }): Promise<void> {
  if (runIds.length === 0 && !opts.stale) throw new UsageError('name the runs to close, or use --stale to close every run whose process is gone');
  if (!['FAILED', 'KILLED', 'FINISHED'].includes(opts.status)) throw new UsageError(`--status must be FAILED, KILLED or FINISHED, not '${opts.status}'`);
  const { store, experiment: defaultExperiment, shown } = await projectTracking();
  const runs: Run[] = [];
  for (const id of runIds) runs.push(await store.getRun(id));
  for (const run of runs) {
    const refusal = closeRefusal(run);
    if (refusal) throw new UsageError(`run ${run.info.run_id} cannot be closed: ${refusal}`);
  }
  if (opts.stale) {
    const experiment = opts.experiment ? await resolveExperiment(store, opts.experiment, shown) : await store.getExperimentByName(defaultExperiment);
    const { runs: found } = await store.searchRuns({ experimentIds: experiment ? [experiment.experiment_id] : [], filter: "attributes.status = 'RUNNING'", orderBy: [], maxResults: Number.MAX_SAFE_INTEGER, view: 'active' });
    runs.push(...found.filter((r) => isDead(r) && !runIds.includes(r.info.run_id)));
  }
  for (const run of runs) {
    await store.setStatus(run.info.run_id, opts.status as RunStatus, Date.now());
    process.stdout.write(`closed run ${run.info.run_id} (${opts.status})\n`);
  }
  if (runs.length === 0) process.stdout.write('no stale runs\n');
}

export async function listExperimentsCommand(opts: { deleted?: boolean; json?: boolean }): Promise<void> {
  const { store } = await projectTracking();
  const experiments = await store.listExperiments(opts.deleted ? 'all' : 'active');
  if (opts.json) {
    printJson(experiments);
  } else if (experiments.length === 0) {
    process.stdout.write('no experiments\n');
  } else {
    process.stdout.write(textTable(['ID', 'NAME', 'STAGE', 'CREATED (UTC)', 'ARTIFACTS'], experiments.map((e) => [e.experiment_id, e.name, e.lifecycle_stage, time(e.creation_time), e.artifact_location])));
  }
}
