import { describeReason } from '../pipeline/status.js';
import type { Project } from '../project/project.js';
import type { Tracking } from '../project/tracking.js';
import { isDead } from '../tracking/liveness.js';
import { STAGE_TAG } from '../tracking/tracked-run.js';

// The pipeline page: every pipeline's stage graph with each stage's status as `mlops status` decides
// it (a dry repro: nothing runs, nothing is written), `running` when a live tracked run of that stage
// is open, and the metrics files at each commit of the branch (`metrics show --all-commits`).

export interface StageView {
  name: string;
  file: string;
  cmd: string;
  status: 'up to date' | 'changed' | 'frozen' | 'running';
  reasons: string[];
  deps: string[];
  outs: { path: string; kind: string }[];
}

/** At most this many commits of metrics: the page compares recent revisions, not the whole history. */
const MAX_REVISIONS = 10;

export async function pipelineView(project: Project, tracking: Tracking) {
  const [{ loadProject }, { buildGraph }, { repro }, { metricsFiles }, { showValues }, { snapshotJson }] = await Promise.all([
    import('../pipeline/load.js'),
    import('../pipeline/graph.js'),
    import('../pipeline/repro.js'),
    import('../metrics/collect.js'),
    import('../metrics/compare.js'),
    import('../metrics/report.js'),
  ]);
  const { pipelines } = loadProject(project.root, project.root);
  const graph = buildGraph(pipelines);
  const outcome = new Map<string, { status: StageView['status']; reasons: string[] }>();
  await repro(project, { cwd: project.root, targets: [], allPipelines: true, dry: true }, (e) => {
    if (e.type !== 'stage-done') return;
    const status = e.outcome === 'would-run' ? 'changed' : e.outcome === 'frozen' ? 'frozen' : 'up to date';
    outcome.set(e.stage, { status, reasons: e.reasons.map(describeReason) });
  });
  const running = await runningStages(tracking);
  const stages: StageView[] = graph.order.map((s) => ({
    name: s.address,
    file: s.file,
    cmd: s.cmd.join(' && '),
    ...(running.has(s.name) ? { status: 'running' as const, reasons: outcome.get(s.address)?.reasons ?? [] } : outcome.get(s.address) ?? { status: 'up to date' as const, reasons: [] }),
    deps: s.deps.map((d) => d.rel),
    outs: s.outs.map((o) => ({ path: o.rel, kind: o.kind })),
  }));
  const files = metricsFiles(pipelines);
  // The workspace, then the branch's latest commits (none outside git).
  // Only the commits shown are read: reading every commit's files took 27 s on a 400-commit history.
  const commits = files.length ? await showValues(project.root, files, MAX_REVISIONS).catch(() => []) : [];
  const revisions = files.length ? [...(await showValues(project.root, files)), ...commits] : [];
  return {
    stages,
    edges: graph.edges.map(([from, to]) => ({ from, to })),
    metrics: revisions.map((r) => ({ label: r.label, title: r.title ?? null, values: snapshotJson(r.snapshot) })),
  };
}

/** Stages with a tracked run still open by a live process. */
async function runningStages(tracking: Tracking): Promise<Set<string>> {
  const experiment = await tracking.store.getExperimentByName(tracking.experiment);
  if (!experiment) return new Set();
  const { runs } = await tracking.store.searchRuns({ experimentIds: [experiment.experiment_id], filter: "attributes.status = 'RUNNING'", maxResults: 1000 });
  return new Set(runs.filter((r) => !isDead(r) && r.tags[STAGE_TAG]).map((r) => r.tags[STAGE_TAG]!));
}
