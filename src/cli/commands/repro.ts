import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { OpenRequest } from '../../pipeline/open.js';
import type { Project } from '../../project/project.js';
import type { Emit } from '../../pipeline/events.js';
import { fileOption, jsonOption } from '../options.js';
import { openProject } from '../project.js';

/** Where a pipeline command looks from: the current folder, and `--file` made absolute. */
export function scope(project: Project, file: string | undefined): OpenRequest {
  return { cwd: project.cwd, ...(file === undefined ? {} : { file: project.fromCwd(file) }) };
}

export function jobs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`-j expects a whole number >= 1, got '${value}'`);
  return n;
}

export interface ReproCliOptions {
  file?: string;
  allPipelines?: boolean;
  downstream?: boolean;
  singleItem?: boolean;
  force?: boolean;
  dry?: boolean;
  keepGoing?: boolean;
  jobs: number;
  runCache: boolean;
  json?: boolean;
  /** The caller holds the repo lock (`exp run`). */
  lockHeld?: boolean;
  quiet?: boolean;
}

/** `mlops repro` as the CLI runs it (also under `exp run`); true when every selected stage succeeded. */
export async function reproduceFromCli(project: Project, targets: string[], opts: ReproCliOptions): Promise<boolean> {
  const { repro } = await import('../../pipeline/repro.js');
  const { launcherDir } = await import('../launcher.js');
  const { stageTracker } = await import('../../tracking/stage-runs.js');
  const logger = await stageLogger(Boolean(opts.json), opts.jobs > 1, Boolean(opts.quiet));
  const results = await repro(
    project,
    {
      lockHeld: opts.lockHeld,
      ...scope(project, opts.file),
      targets,
      allPipelines: opts.allPipelines,
      downstream: opts.downstream,
      singleItem: opts.singleItem,
      force: opts.force,
      dry: opts.dry,
      keepGoing: opts.keepGoing,
      jobs: opts.jobs,
      runCache: opts.runCache,
      launcherDir: launcherDir(),
      tracker: stageTracker(project),
      stdio: opts.json || opts.quiet || opts.jobs > 1 ? 'pipe' : 'inherit',
    },
    logger.emit,
  );
  await logger.finish();
  return [...results.values()].every((r) => r === 'ok');
}

export function register(program: Command): void {
  program
    .command('repro')
    .description('run the stages whose command, deps, params or outs changed, in dependency order')
    .argument('[targets...]', "stages ('name', 'path/dvc.yaml:name') or pipeline files; default: this folder's pipeline file")
    .addOption(fileOption())
    .option('-f, --force', 'run the selected stages even if nothing changed')
    .option('-s, --single-item', 'run only the targets, not what they depend on')
    .option('-P, --all-pipelines', 'every pipeline of the project')
    .option('--dry', 'print what would run and why, without running')
    .option('--downstream', 'also run the stages that depend on the targets')
    .option('-k, --keep-going', 'after a failure, go on with stages that do not depend on it')
    .option('-j, --jobs <n>', 'stages to run at once when the graph allows', jobs, 1)
    .option('--no-run-cache', 'always run the command instead of restoring outputs seen before')
    .option('-q, --quiet', 'print only errors')
    .addOption(jsonOption('print a JSON report of every stage at the end'))
    .action(async (targets: string[], opts: ReproCliOptions) => {
      if (!(await reproduceFromCli(await openProject(), targets, opts))) process.exitCode = 1;
    });

  program
    .command('status')
    .description('show which stages would run and why, without running them (default: every pipeline)')
    .argument('[targets...]', "stages ('name', 'path/dvc.yaml:name') or pipeline files to check")
    .addOption(fileOption())
    .option('-q, --quiet', 'print nothing; exit 1 if anything changed, 0 if up to date')
    .option('-c, --cloud', 'compare the cache with a remote instead (new, deleted, missing outputs)')
    .option('-r, --remote <name>', 'with -c: the remote (default: core.remote)')
    .option('-j, --jobs <n>', 'with -c: requests at once', jobs)
    .option('--all-files', "with -c: ask about each file of a directory too, not only its manifest (finds files a remote lost behind it)")
    .addOption(jsonOption())
    .action(async (targets: string[], opts: { file?: string; quiet?: boolean; json?: boolean; cloud?: boolean; remote?: string; jobs?: number; allFiles?: boolean }) => {
      if (opts.cloud) return (await import('./remote.js')).cloudStatus(targets, opts);
      if (opts.remote !== undefined || opts.jobs !== undefined || opts.allFiles) throw new UsageError('-r, -j and --all-files go with -c (--cloud)');
      const { repro } = await import('../../pipeline/repro.js');
      const { describeReason } = await import('../../pipeline/status.js');
      const changed: Record<string, string[]> = {};
      const project = await openProject();
      await repro(project, { ...scope(project, opts.file), targets, allPipelines: true, dry: true }, (e) => {
        if (e.type === 'stage-done' && e.outcome === 'would-run') changed[e.stage] = e.reasons.map(describeReason);
      });
      const upToDate = Object.keys(changed).length === 0;
      if (opts.quiet) {
        if (!upToDate) process.exitCode = 1;
        return;
      }
      if (opts.json) return printJsonLazy(changed);
      for (const [stage, reasons] of Object.entries(changed)) process.stdout.write(`${stage}: changed (${reasons.join('; ')})\n`);
      if (upToDate) process.stdout.write('Data and pipelines are up to date.\n');
    });

  program
    .command('checkout')
    .description('restore the outputs recorded in the lock files from the cache (default: every pipeline)')
    .argument('[targets...]', 'stages or pipeline files whose outputs to restore')
    .addOption(fileOption())
    .option('-f, --force', 'overwrite outputs modified in the workspace')
    .option('-q, --quiet', 'print only errors')
    .addOption(jsonOption())
    .action(async (targets: string[], opts: { file?: string; force?: boolean; quiet?: boolean; json?: boolean }) => {
      const { checkoutOutputs } = await import('../../pipeline/repro.js');
      const project = await openProject();
      const report = await checkoutOutputs(project, { ...scope(project, opts.file), targets, allPipelines: true, singleItem: true, force: opts.force }, await waitingNotice());
      if (opts.json) await printJsonLazy(report);
      else {
        for (const f of report.failed) process.stderr.write(`error: ${f.path}: ${f.message}\n`);
        if (!opts.quiet) {
          for (const p of report.restored) process.stdout.write(`restored ${p}\n`);
          process.stdout.write(`${report.restored.length} restored, ${report.unchanged.length} unchanged, ${report.failed.length} failed\n`);
        }
      }
      if (report.failed.length) process.exitCode = 1;
    });

  program
    .command('gc')
    .description('remove cache objects that no lock file of the project references')
    .addOption(fileOption())
    .option('-w, --workspace', "keep what the workspace's lock files reference (the default, as DVC's -w)")
    .option('--no-experiments', "also remove objects only recorded experiments' lock files reference")
    .option('-f, --force', 'do not ask for confirmation')
    .option('--dry', 'list what would be removed')
    .option('-q, --quiet', 'print only errors')
    .addOption(jsonOption())
    .action(async (opts: { file?: string; force?: boolean; dry?: boolean; quiet?: boolean; json?: boolean; experiments: boolean }) => {
      const { gc } = await import('../../pipeline/repro.js');
      const project = await openProject();
      // Registered model versions' files are in no lock file, and must survive gc (asked under the repo lock).
      const keep: (() => Promise<Iterable<string>>)[] = [async () => (await import('../../registry/content.js')).registeredObjects(project)];
      if (opts.experiments) keep.push(async () => (await import('../../exp/kept-objects.js')).experimentObjects(project));
      const confirm = opts.dry || opts.force ? undefined : confirmGc;
      const removed = await gc(project, { ...scope(project, opts.file), dry: opts.dry, keep, confirm }, await waitingNotice());
      if (opts.json) return printJsonLazy({ removed, dry: Boolean(opts.dry) });
      if (opts.quiet) return;
      for (const md5 of removed) process.stdout.write(`${opts.dry ? 'would remove' : 'removed'} ${md5}\n`);
      process.stdout.write(`${removed.length} object(s) ${opts.dry ? 'would be ' : ''}removed\n`);
    });
}

/** DVC's question before gc; without a terminal to ask on, -f is required. */
async function confirmGc(): Promise<void> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError('gc removes cache objects and needs a confirmation: run it on a terminal, or pass -f/--force');
  }
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    process.stderr.write('WARNING: This will remove all cache except items used in the workspace of the current repo.\n');
    const answer = (await rl.question('Are you sure you want to proceed? [y/n] ')).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new UsageError('gc cancelled');
  } finally {
    rl.close();
  }
}

/** checkout and gc only report waiting for a running repro; on stderr, as their stdout may be JSON. */
async function waitingNotice(): Promise<Emit> {
  const { textLogger } = await import('../loggers/text.js');
  return textLogger({ prefixOutput: false, out: process.stderr }).emit;
}

export async function printJsonLazy(value: unknown): Promise<void> {
  const { printJson } = await import('../output.js');
  printJson(value);
}

async function stageLogger(json: boolean, parallel: boolean, quiet: boolean): Promise<{ emit: Emit; finish(): Promise<void> | void }> {
  if (json) {
    const { jsonLogger } = await import('../loggers/json.js');
    const logger = jsonLogger();
    return { emit: logger.emit, finish: () => printJsonLazy(logger.document()) };
  }
  const { textLogger } = await import('../loggers/text.js');
  if (quiet) {
    // Failures still say why, on stderr; everything else is silent.
    const errors = textLogger({ prefixOutput: false, out: process.stderr });
    return { emit: (e) => void (e.type === 'stage-failed' && errors.emit(e)), finish: () => undefined };
  }
  const logger = textLogger({ prefixOutput: parallel });
  return { emit: logger.emit, finish: () => void process.stdout.write(`${logger.summary()}\n`) };
}
