import { join } from 'node:path';
import type { ModelRegistry, NewVersion } from '../src/registry/store.js';
import type { TrackingStore } from '../src/tracking/store.js';
import { writeFiles } from './helpers.js';

// A store holding one of everything `tracking migrate` must carry: experiments with tags and times,
// nested runs, every status, a deleted run, long metric histories with repeated and NaN values,
// artifacts in folders, and a registered model with a deleted version, aliases and history.

export interface Fixture {
  readonly runIds: string[];
  readonly experiments: string[];
  /** Metric values logged in all. */
  readonly metricValues: number;
}

const LINEAGE = { source: 'models/model.json', run_id: null, git_commit: null, git_dirty: null, train_data: null, test_data: null, params: null, raw_data: null };

function version(content: string): NewVersion {
  return { source: 'models/model.json', content: `${content}.dir`, files: { 'model.json': content }, metrics: { f1: 0.9 }, lineage: LINEAGE, user: 'alice', description: `v ${content.slice(0, 3)}` };
}

/** Fills `tracking` and `registry` (both empty); `scratch` is a temp folder for artifact files; `runs` per experiment. */
/**
 * `duplicates`: also log one value twice at the same step and time, which a folder keeps twice and
 * MLflow's SQL tables once (their primary key).
 */
export async function populate(tracking: TrackingStore, registry: ModelRegistry, scratch: string, runs = 6, duplicates = true): Promise<Fixture> {
  const runIds: string[] = [];
  let metricValues = 0;
  const experiments = ['forest', 'drift'];
  writeFiles(scratch, { 'model.json': '{"trees": 3}\n', 'plots/roc.csv': 'fpr,tpr\n0,0\n1,1\n', 'plots/deep/notes.txt': 'n\u00e9e\n' });
  for (const [e, name] of experiments.entries()) {
    const experimentId = await tracking.getOrCreateExperiment(name, { creationTime: 1_600_000_000_000 + e });
    await tracking.setExperimentTags(experimentId, { owner: `team-${e}`, 'mlflow.note.content': 'line one\nline two' });
    let parent: string | undefined;
    for (let i = 0; i < runs; i++) {
      const start = 1_700_000_000_000 + e * 1000 + i;
      const tags: Record<string, string> = { 'mlops.stage': 'train', note: `run "${i}" 'quoted'` };
      if (parent && i % 2 === 1) tags['mlflow.parentRunId'] = parent;
      const { run_id } = await tracking.createRun({ experimentId, runName: `${name}-${i}`, userId: 'tester', startTime: start, tags });
      if (i === 0) parent = run_id;
      runIds.push(run_id);
      await tracking.logParams(run_id, { max_depth: String(5 + i), criterion: i % 2 ? 'gini' : 'entropy', 'nested/key': 'x'.repeat(300) });
      const history = [];
      for (let step = 0; step < 40; step++) history.push({ key: 'loss', value: 1 / (step + 1 + i), step, timestamp: start + step });
      history.push({ key: 'loss', value: 0.5, step: 3, timestamp: start + 3 });
      if (duplicates) history.push({ key: 'loss', value: 0.5, step: 3, timestamp: start + 3 });
      history.push({ key: 'f1', value: i === 2 ? NaN : 0.8 + i / 100, step: 0, timestamp: start }, { key: 'acc/train', value: -Infinity, step: 1, timestamp: start });
      await tracking.logMetrics(run_id, history);
      metricValues += history.length;
      if (i % 3 === 0) {
        await tracking.logArtifact(run_id, join(scratch, 'model.json'), 'model');
        await tracking.logArtifact(run_id, join(scratch, 'plots'));
      }
      const status = (['FINISHED', 'FAILED', 'KILLED', 'RUNNING'] as const)[i % 4]!;
      if (status !== 'RUNNING') await tracking.setStatus(run_id, status, start + 5000);
      if (i === runs - 1) await tracking.deleteRun(run_id);
    }
  }
  await registry.createVersion('obesity_classifier', version('a'.repeat(32)));
  await registry.createVersion('obesity_classifier', version('b'.repeat(32)));
  await registry.createVersion('obesity_classifier', version('c'.repeat(32)));
  await registry.setAlias('obesity_classifier', 'champion', 1, { action: 'promote', user: 'alice', reason: 'gates passed', gates: { passed: true, checks: [{ metric: 'f1', min: 0.8, value: 0.9 }] } });
  await registry.setAlias('obesity_classifier', 'champion', 3, { action: 'promote', user: 'bob', reason: 'forced', forced: true });
  await registry.setAlias('obesity_classifier', 'challenger', 2, { action: 'alias', user: 'bob', reason: 'try' });
  await registry.deleteVersion('obesity_classifier', 2, { action: 'delete', user: 'bob', reason: 'leaked test data' });
  await registry.setDescription('obesity_classifier', null, 'obesity levels');
  await registry.createVersion('drift_reference', version('d'.repeat(32)));
  return { runIds, experiments, metricValues };
}
