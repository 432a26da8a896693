import { Command, Option } from 'commander';
import type { LockWait } from '../../pipeline/repo-lock.js';
import { fileOption, jsonOption, mdOption } from '../options.js';
import { openProject, projectOptions, quietAwsSdk } from '../project.js';
import { jobs, printJsonLazy, reproduceFromCli } from './repro.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command): void {
  const exp = program.command('exp').description('run and compare experiments (params overrides + repro, recorded as runs)');

  exp
    .command('run')
    .description('write -S overrides into the params file, reproduce, and record the experiment (results stay in the workspace)')
    .argument('[targets...]', 'stages to reproduce (default: all)')
    .option('-S, --set-param <[file:]key=value>', 'set a param for this experiment (repeatable)', collect, [])
    .option('-n, --name <name>', 'experiment name (default: exp-<timestamp>)')
    .addOption(fileOption())
    .option('--temp', 'run in a temporary copy of the workspace, leaving the workspace untouched')
    .option('--force', 'run the selected stages even if nothing changed')
    .option('-j, --jobs <n>', 'stages to run at once when the graph allows', jobs, 1)
    .option('--no-run-cache', 'always run the command instead of restoring outputs seen before')
    .addOption(new Option('--queue', 'check and queue the experiment (commit, overrides, targets) for mlops queue start or a queue worker, and return').conflicts(['temp', 'force']))
    // Set by a queue worker: the job this run is for (its record is tagged with it), and a worker's
    // death ends the run, so a retry elsewhere never races an orphan.
    .addOption(new Option('--queue-job <id>').hideHelp())
    .action(async (targets: string[], opts: {
      setParam: string[]; name?: string; file?: string; temp?: boolean; force?: boolean; jobs: number; runCache: boolean; queue?: boolean; queueJob?: string;
    }) => {
      if (opts.queue) {
        const { enqueueExperiment } = await import('../../queue/experiments.js');
        const job = await enqueueExperiment(await openProject(), { overrides: opts.setParam, targets, name: opts.name, file: opts.file }, (line) => process.stderr.write(`${line}\n`));
        process.stdout.write(`queued experiment ${job.data.name} as job ${job.id} (commit ${job.data.commit.slice(0, 7)}): run it with mlops queue start, or a queue worker\n`);
        return;
      }
      if (opts.queueJob !== undefined) endWithParent();
      const [{ runExperiment }, { Project }] = await Promise.all([import('../../exp/run.js'), import('../../project/project.js')]);
      const tags = opts.queueJob === undefined ? undefined : { [(await import('../../queue/experiments.js')).QUEUE_JOB_TAG]: opts.queueJob };
      const { runId, ok } = await runExperiment(
        await openProject(),
        { overrides: opts.setParam, name: opts.name, file: opts.file, temp: opts.temp, tags },
        {
          reproduce: (project) => reproduceFromCli(project, targets, { ...opts, lockHeld: true }),
          open: (root) => Project.open(root, projectOptions()),
          onWait: waitingFor,
        },
      );
      process.stdout.write(`experiment recorded as run ${runId}${ok ? '' : ' (FAILED)'}\n`);
      if (!ok) process.exitCode = 1;
    });

  exp
    .command('show')
    .description('the workspace, the baseline commit and its experiments, with their metrics and params')
    .addOption(fileOption())
    .addOption(jsonOption().conflicts(['csv', 'md']))
    .addOption(new Option('--csv', 'print CSV (missing values empty)').conflicts(['md']))
    .addOption(mdOption())
    .option('-A, --all-commits', 'every commit of the current branch as a baseline, with its experiments')
    .option('--only-changed', 'only the columns whose values differ between rows')
    .option('--drop <regex>', 'hide the columns whose names match')
    .option('--keep <regex>', 'show the columns whose names match, even if --drop or --only-changed hides them')
    .option('--sort-by <key>', 'sort experiments by this metric or param')
    .addOption(new Option('--sort-order <order>', 'with --sort-by').choices(['asc', 'desc']).default('asc'))
    .option('--precision <n>', 'significant digits for numbers', (v) => Number(v), 5)
    .action(async (opts: {
      file?: string; json?: boolean; csv?: boolean; md?: boolean; allCommits?: boolean; onlyChanged?: boolean;
      drop?: string; keep?: string; sortBy?: string; sortOrder: 'asc' | 'desc'; precision: number;
    }) => {
      const { experimentRows, expTable } = await import('../../exp/show.js');
      const rows = await experimentRows(await openProject(), { file: opts.file, allCommits: opts.allCommits });
      if (opts.json) return printJsonLazy(rows);
      const table = expTable(rows, { ...opts, missing: opts.csv ? '' : '-', tree: !opts.csv });
      const { fitTable, markdownTable, terminalWidth, textTable } = await import('../table.js');
      if (opts.csv) return void process.stdout.write((await import('../../core/csv.js')).formatCsv(table.header, table.rows));
      if (opts.md) return void process.stdout.write(markdownTable(table.header, table.rows));
      const width = await terminalWidth();
      const fitted = width === undefined ? { ...table, hidden: 0 } : fitTable(table.header, table.rows, width);
      process.stdout.write(textTable(fitted.header, fitted.rows));
      if (fitted.hidden) {
        process.stderr.write(`note: ${fitted.hidden} of ${table.header.length} columns left out to fit ${width} characters\nnote: choose with --drop/--keep, or see all with --csv or --json\n`);
      }
    });

  exp
    .command('apply')
    .description("bring an experiment's params, lock file and outputs back into the workspace")
    .argument('<experiment>', 'run id (or a unique prefix) or experiment name')
    .addOption(fileOption())
    .action(async (ref: string, opts: { file?: string }) => {
      const { applyExperiment } = await import('../../exp/apply.js');
      const result = await applyExperiment(await openProject(), ref, { file: opts.file, onWait: waitingFor });
      for (const f of result.checkout.failed) process.stderr.write(`error: ${f.path}: ${f.message}\n`);
      process.stdout.write(
        `applied ${result.run.info.run_name} (${result.run.info.run_id}): ${result.written.length} file(s) from the record, ` +
          `${result.checkout.restored.length} output(s) restored from the cache\n`,
      );
      if (result.checkout.failed.length) process.exitCode = 1;
    });

  exp
    .command('pull')
    .description("bring an experiment run anywhere into the workspace: its record's files, then its outputs from the remote")
    .argument('<experiment>', 'run id (or a unique prefix) or experiment name')
    .option('-r, --remote <name>', 'the remote (default: core.remote)')
    .option('-j, --jobs <n>', "transfers at once (default: the remote's jobs, else 4 per core)", jobs)
    .option('-f, --force', 'overwrite outputs modified in the workspace')
    .addOption(fileOption())
    .action(async (ref: string, opts: { remote?: string; jobs?: number; force?: boolean; file?: string }) => {
      quietAwsSdk();
      const { pullExperiment } = await import('../../exp/pull.js');
      const result = await pullExperiment(await openProject(), ref, { ...opts, onWait: waitingFor });
      for (const f of result.fetched.failed) process.stderr.write(`error: ${f.object}: ${f.message}\n`);
      for (const f of result.checkout.failed) process.stderr.write(`error: ${f.path}: ${f.message}\n`);
      process.stdout.write(
        `pulled ${result.run.info.run_name} (${result.run.info.run_id}): ${result.written.length} file(s) from the record (${result.source === 'remote' ? `remote '${result.fetched.remote}'` : 'its artifacts'}), ` +
          `${result.fetched.transferred} object(s) fetched, ${result.checkout.restored.length} output(s) restored\n`,
      );
      if (result.fetched.failed.length || result.checkout.failed.length) process.exitCode = 1;
    });

  exp
    .command('remove')
    .alias('rm')
    .description('remove experiments (MLflow soft delete: `mlops runs` still finds them with --view deleted)')
    .argument('<experiments...>', 'run ids (or unique prefixes) or experiment names')
    .action(async (refs: string[]) => {
      const { removeExperiments } = await import('../../exp/runs.js');
      for (const run of await removeExperiments(await openProject(), refs)) process.stdout.write(`removed ${run.info.run_name} (${run.info.run_id})\n`);
    });
}

/** Ends this process (as SIGTERM would: stages stopped, runs closed) once its parent is gone. */
function endWithParent(): void {
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && process.kill(process.pid, 'SIGTERM'), 500).unref();
}

function waitingFor({ pid, orphan }: LockWait): void {
  const what = orphan ? `stage '${orphan.stage}' left running by a killed repro (process group ${orphan.pgid})` : `another mlops repro in this project to finish (pid ${pid})`;
  process.stderr.write(`waiting for ${what}...\n`);
}
