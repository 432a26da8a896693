import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';

// `mlops log param|metric|tag|artifact`: what `mlflow.log_*` does in Python, for stages in any language.
// The run is the one the environment names (MLFLOW_RUN_ID, set by repro for every stage).

async function runFromEnv() {
  const [{ logTarget }, { openProject, stageRunId }] = await Promise.all([import('../../tracking/log-target.js'), import('../project.js')]);
  const runId = stageRunId();
  if (!runId) throw new UsageError('MLFLOW_RUN_ID is not set: mlops log works inside a pipeline stage (mlops repro sets it) or with MLFLOW_RUN_ID exported');
  const project = await openProject(); // its tracking store honours MLFLOW_TRACKING_URI
  const { store } = await project.tracking();
  return { ...(await logTarget(store, runId)), project };
}

function number(what: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || (Number.isNaN(value) && text.trim().toLowerCase() !== 'nan')) throw new UsageError(`${what} must be a number, not '${text}'`);
  return value;
}

export function register(program: Command): void {
  const log = program.command('log').description('log into the run of the current pipeline stage (MLFLOW_RUN_ID), like mlflow.log_*');
  log
    .command('param')
    .argument('<key>')
    .argument('<value>')
    .description('log a param (a param, once logged, keeps its value)')
    .action(async (key: string, value: string) => (await runFromEnv()).logParams({ [key]: value }));
  log
    .command('metric')
    .argument('<key>')
    .argument('<value>')
    .option('--step <n>', 'the step (default 0)', '0')
    .description('log a metric value')
    .action(async (key: string, value: string, opts: { step: string }) => {
      const step = number('--step', opts.step);
      if (!Number.isInteger(step)) throw new UsageError(`--step must be an integer, not '${opts.step}'`);
      await (await runFromEnv()).logMetric(key, number(`metric '${key}'`, value), step);
    });
  log
    .command('tag')
    .argument('<key>')
    .argument('<value>')
    .description('set a tag')
    .action(async (key: string, value: string) => (await runFromEnv()).setTags({ [key]: value }));
  log
    .command('artifact')
    .argument('<path>', 'a file or folder to store with the run')
    .argument('[artifact-path]', 'folder inside the run\'s artifacts')
    .description('store a file or folder in the run\'s artifacts')
    .action(async (path: string, artifactPath: string | undefined) => {
      const target = await runFromEnv();
      await target.logArtifact(target.project.fromCwd(path), artifactPath);
    });
}
