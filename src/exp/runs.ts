import { UsageError } from '../core/errors.js';
import type { Project } from '../project/project.js';
import type { Run } from '../tracking/store.js';
import { EXPERIMENT_KIND, EXPERIMENT_TAG } from './record.js';

/** The project's recorded experiments (active runs tagged as experiments), newest first. */
export async function experimentRuns(project: Project): Promise<Run[]> {
  const { store, experiment: name } = await project.tracking();
  const experiment = await store.getExperimentByName(name);
  if (!experiment) return [];
  const { runs } = await store.searchRuns({
    experimentIds: [experiment.experiment_id],
    filter: `tags.\`${EXPERIMENT_TAG}\` = '${EXPERIMENT_KIND}'`,
    orderBy: ['attributes.start_time DESC'],
  });
  return runs;
}

/** The experiment `ref` names: its run id, a unique prefix of it (4+ characters), or its name. */
export function findExperiment(runs: readonly Run[], ref: string): Run {
  const exact = runs.find((r) => r.info.run_id === ref);
  if (exact) return exact;
  const named = runs.filter((r) => r.info.run_name === ref);
  const matches = named.length ? named : ref.length >= 4 ? runs.filter((r) => r.info.run_id.startsWith(ref)) : [];
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new UsageError(`'${ref}' names ${matches.length} experiments (${matches.map((r) => r.info.run_id.slice(0, 8)).join(', ')}): give a run id`);
  }
  throw new UsageError(`no experiment '${ref}' (see mlops exp show)`);
}

/** `exp remove`: MLflow's soft delete of each named experiment; all are found before any is removed. */
export async function removeExperiments(project: Project, refs: readonly string[]): Promise<Run[]> {
  const runs = await experimentRuns(project);
  const found = [...new Map(refs.map((ref) => findExperiment(runs, ref)).map((r) => [r.info.run_id, r])).values()];
  const { store } = await project.tracking();
  for (const run of found) await store.deleteRun(run.info.run_id);
  return found;
}
