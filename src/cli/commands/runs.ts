import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';

// `mlops runs list|show|compare|delete` and `mlops experiments list`: the tracking folder from the
// command line. Domain modules load inside the actions so `mlops --help` stays fast.

// As MLflow's search_runs: without it, a folder of 10,000 runs is read whole and printed in full.
const DEFAULT_MAX_RUNS = 1000;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--max expects a positive integer, not '${value}'`);
  return n;
}

export function register(program: Command): void {
  const runs = program.command('runs').description('list, show, compare and delete tracked runs (MLflow mlruns/ folder)');

  runs
    .command('list')
    .description("runs of an experiment, filtered with MLflow's grammar, e.g. --filter \"metrics.f1 > 0.9 and params.max_depth = '10'\"")
    .option('--experiment <name>', 'experiment name or id (default: MLFLOW_EXPERIMENT_NAME, else tracking.experiment in .mlops/config, else Default)')
    .option('--filter <expr>', 'metrics.K > 0.9, params.K = \'v\', tags.K LIKE \'x%\', attributes.status = \'FINISHED\'; AND, OR, ( )')
    .option('--order-by <clause>', "e.g. 'metrics.f1 DESC' (repeatable or comma-separated; ASC by default)", collect)
    .option('--max <n>', "at most this many runs (MLflow's search default)", positiveInt, DEFAULT_MAX_RUNS)
    .option('--deleted', 'list deleted runs instead')
    .option('--json', 'JSON: a list of runs, each with run_id, info, params, metrics, tags')
    .action(async (opts: { experiment?: string; filter?: string; orderBy?: string[]; max: number; deleted?: boolean; json?: boolean }) => {
      const { listRuns } = await import('../runs-view.js');
      await listRuns({ ...opts, orderBy: opts.orderBy ?? [] });
    });

  runs
    .command('show')
    .description('one run: info, params, metrics (latest, min, max, steps) and tags')
    .argument('<run-id>')
    .option('--json', 'JSON with the run and every metric history')
    .action(async (runId: string, opts: { json?: boolean }) => {
      const { showRun } = await import('../runs-view.js');
      await showRun(runId, opts);
    });

  runs
    .command('compare')
    .description('params and metrics of runs side by side; differing values are marked')
    .argument('<run-ids...>')
    .option('--only-diff', 'show only the keys whose values differ')
    .option('--json', 'JSON: {runs, params: {key: {values, differs}}, metrics: {...}}')
    .action(async (runIds: string[], opts: { onlyDiff?: boolean; json?: boolean }) => {
      const { compareRunsCommand } = await import('../runs-view.js');
      await compareRunsCommand(runIds, opts);
    });

  runs
    .command('delete')
    .description("mark a run deleted (MLflow's soft delete: lifecycle_stage deleted; hidden from list)")
    .argument('<run-id>')
    .action(async (runId: string) => {
      const { deleteRunCommand } = await import('../runs-view.js');
      await deleteRunCommand(runId);
    });

  program
    .command('experiments')
    .description('experiments in the tracking folder')
    .command('list')
    .description('experiments with their ids, names and folders')
    .option('--deleted', 'include deleted experiments')
    .option('--json', 'JSON: a list of experiments')
    .action(async (opts: { deleted?: boolean; json?: boolean }) => {
      const { listExperimentsCommand } = await import('../runs-view.js');
      await listExperimentsCommand(opts);
    });
}
