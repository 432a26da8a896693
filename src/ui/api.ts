import type { FastifyInstance, FastifyReply } from 'fastify';
import { NotFoundError, UsageError } from '../core/errors.js';
import type { Project } from '../project/project.js';
import type { Tracking } from '../project/tracking.js';
import { compareRunData } from '../tracking/compare.js';
import { GIT_COMMIT_TAG } from '../tracking/git-tags.js';
import { resolveExperiment, type Run, type TrackingStore } from '../tracking/store.js';
import { PARENT_RUN_TAG, STAGE_TAG } from '../tracking/tracked-run.js';
import { artifactRoot, imageType, listArtifacts, previewKind, readArtifact, readStoreArtifact } from './artifacts.js';
import { pipelineView } from './pipeline-view.js';
import { RunsIndex } from './runs-index.js';

// The JSON API the page reads. Every route calls the domain code the CLI calls (the tracking store
// and its filter grammar, exp show, the registry, the pipeline status), so the page and the commands
// never disagree. Reads only: the routes that change state are in writes.ts.

export interface UiContext {
  readonly project: Project;
  readonly tracking: Tracking;
  readonly runs: RunsIndex;
  readonly allowWrites: boolean;
  readonly csrfToken: string;
  /** `--serve-url`: the running `mlops serve` whose traffic the Monitoring page shows. */
  readonly serveUrl?: URL;
}

type Query = Record<string, string | undefined>;

const MAX_COMPARED = 200;
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

function runId(value: string | undefined): string {
  if (!value || !RUN_ID.test(value)) throw new UsageError(`invalid run id ${JSON.stringify(value ?? '')}`);
  return value;
}

const splitList = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

function intParam(q: Query, name: string, fallback: number): number {
  const raw = q[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name}: expected a whole number >= 0, got ${JSON.stringify(raw)}`);
  return n;
}

async function experimentOf(store: TrackingStore, tracking: Tracking, q: Query) {
  const wanted = q.experiment;
  if (wanted) return resolveExperiment(store, wanted, tracking.shown);
  const found = await store.getExperimentByName(tracking.experiment);
  if (!found) throw new NotFoundError(`no experiment named '${tracking.experiment}' in ${tracking.shown}`);
  return found;
}

/** The runs' metric histories, one request per key the run logged. */
async function histories(store: TrackingStore, run: Run) {
  const keys = Object.keys(run.metrics).sort();
  return Object.fromEntries(await Promise.all(keys.map(async (k) => [k, (await store.getMetricHistory(run.info.run_id, k)).map((m) => ({ step: m.step, value: m.value, timestamp: m.timestamp }))] as const)));
}

export function apiRoutes(app: FastifyInstance, ctx: UiContext): void {
  const { store } = ctx.tracking;

  app.get('/api/info', async () => ({
    project: ctx.project.root.split(/[\\/]/).pop(),
    tracking: ctx.tracking.shown,
    experiment: ctx.tracking.experiment,
    allow_writes: ctx.allowWrites,
    // Only a page served from this origin can read it (no CORS headers), so only it can write.
    csrf_token: ctx.allowWrites ? ctx.csrfToken : null,
  }));

  app.get('/api/experiments', async () => ({ experiments: await store.listExperiments('active') }));

  app.get('/api/runs', async (req) => {
    const q = req.query as Query;
    const experiment = await experimentOf(store, ctx.tracking, q);
    const page = await ctx.runs.search({
      experimentId: experiment.experiment_id,
      filter: q.filter,
      orderBy: q.order_by ? [q.order_by] : [],
      offset: intParam(q, 'offset', 0),
      limit: intParam(q, 'limit', 100),
      groupBy: q.group_by || undefined,
      flat: q.flat === '1',
      view: q.deleted === '1' ? 'deleted' : 'active',
      refresh: q.refresh === '1',
    });
    return { experiment, ...page };
  });

  app.get('/api/runs/:id', async (req) => {
    const id = runId((req.params as Query).id);
    const run = await store.getRun(id);
    const root = artifactRoot(run.info.artifact_uri);
    const parentId = run.tags[PARENT_RUN_TAG];
    const parent = parentId ? await store.getRun(parentId).catch(() => undefined) : undefined;
    const { runs: children } = await store.searchRuns({
      experimentIds: [run.info.experiment_id],
      filter: `tags.\`${PARENT_RUN_TAG}\` = '${id}'`,
      orderBy: ['attributes.start_time ASC'],
      maxResults: 1000,
    });
    return {
      run,
      metric_history: await histories(store, run),
      parent: parent ? { run_id: parent.info.run_id, run_name: parent.info.run_name } : parentId ? { run_id: parentId, run_name: null } : null,
      children: children.map((c) => ({ run_id: c.info.run_id, run_name: c.info.run_name, status: c.info.status, metrics: c.metrics })),
      git_commit: run.tags[GIT_COMMIT_TAG] ?? null,
      stage: run.tags[STAGE_TAG] ?? null,
      artifacts: root ? withKinds(await listArtifacts(root)) : inStore(store, run) ? withKinds(await store.listArtifacts(id)) : null,
    };
  });

  app.get('/api/runs/:id/artifact', async (req, reply) => {
    const id = runId((req.params as Query).id);
    const path = (req.query as Query).path ?? '';
    const run = await store.getRun(id);
    const root = artifactRoot(run.info.artifact_uri);
    if (!root && !inStore(store, run)) throw new NotFoundError(`run ${id} keeps its artifacts at ${run.info.artifact_uri}, not on this machine`);
    const { data, truncated, size } = root ? await readArtifact(root, path) : await readStoreArtifact(store, id, path);
    return sendArtifact(reply, path, data, truncated, size);
  });

  app.get('/api/compare', async (req) => {
    const q = req.query as Query;
    const ids = [...new Set(splitList(q.ids).map((s) => runId(s)))];
    if (ids.length < 2 || ids.length > MAX_COMPARED) throw new UsageError(`compare 2 to ${MAX_COMPARED} runs, not ${ids.length}`);
    const runs = await Promise.all(ids.map((id) => store.getRun(id)));
    const metric = q.metric || undefined;
    return {
      runs: runs.map((r) => ({ run_id: r.info.run_id, run_name: r.info.run_name, status: r.info.status, params: r.params, metrics: r.metrics })),
      ...compareRunData(runs),
      // One metric's history per run, for the overlay chart.
      history: metric
        ? Object.fromEntries(await Promise.all(runs.map(async (r) => [r.info.run_id, (await store.getMetricHistory(r.info.run_id, metric)).map((m) => ({ step: m.step, value: m.value }))] as const)))
        : null,
    };
  });

  app.get('/api/exp', async () => {
    const { experimentRows } = await import('../exp/show.js');
    return { rows: await experimentRows(ctx.project) };
  });

  app.get('/api/pipeline', async () => pipelineView(ctx.project, ctx.tracking));

  /** The pipeline's charts in the workspace, or at a git revision (`?rev=HEAD~1`) to set beside them. */
  app.get('/api/plots', async (req) => {
    const rev = (req.query as Query).rev || undefined;
    const [{ loadProject }, { declaredPaths, pipelinePlots }, { collectCharts }] = await Promise.all([
      import('../pipeline/load.js'),
      import('../plots/defined.js'),
      import('../plots/build.js'),
    ]);
    const { pipelines } = loadProject(ctx.project.root, ctx.project.root);
    return collectCharts(ctx.project.root, {
      defs: pipelines.flatMap(pipelinePlots),
      declared: pipelines.length ? new Set(pipelines.flatMap((p) => [...declaredPaths(p)])) : undefined,
      tracking: ctx.tracking,
      revision: rev,
    });
  });

  app.get('/api/monitor', async (req) => {
    const { monitorView } = await import('./monitor-view.js');
    return monitorView(ctx.project, ctx.tracking, req.query as Query, ctx.serveUrl);
  });

  app.get('/api/models', async () => {
    const { openRegistry } = await import('../registry/open.js');
    return { models: await (await openRegistry(ctx.project)).registry.listModels() };
  });

  app.get('/api/models/:name', async (req) => {
    const { openRegistry } = await import('../registry/open.js');
    const name = (req.params as Query).name!;
    const { registry } = await openRegistry(ctx.project);
    const [model, versions, history] = await Promise.all([registry.getModel(name), registry.listVersions(name), registry.history(name)]);
    return { model, versions, history };
  });
}

// Artifacts are shown, never run: HTML and SVG go out as plain text, and every answer carries a
// sandbox CSP and nosniff, so a hostile artifact opened directly cannot script this origin.
const withKinds = (files: { path: string; size: number }[]) => files.map((a) => ({ ...a, kind: previewKind(a.path) }));

/** Artifacts the store itself reads from elsewhere: a database store's S3 artifact root. */
const inStore = (store: TrackingStore, run: Run) => run.info.artifact_uri.startsWith(`${store.artifactRoot}/`);

function sendArtifact(reply: FastifyReply, path: string, data: Buffer, truncated: boolean, size: number) {
  const kind = previewKind(path);
  const type = kind === 'image' ? imageType(path)! : kind === 'json' ? 'application/json' : kind === 'binary' ? 'application/octet-stream' : 'text/plain; charset=utf-8';
  return reply
    .header('content-security-policy', 'sandbox; default-src \'none\'; img-src \'self\'')
    .header('x-artifact-size', String(size))
    .header('x-artifact-truncated', truncated ? '1' : '0')
    .type(type)
    .send(data);
}
