import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { Project } from '../../project/project.js';
import type { Emit } from '../../pipeline/events.js';
import { fileOption, jsonOption } from '../options.js';
import { openProject } from '../project.js';

export function jobs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`-j expects a whole number >= 1, got '${value}'`);
  return n;
}

export interface ReproCliOptions {
  file?: string;
  downstream?: boolean;
  singleItem?: boolean;
  force?: boolean;
  dry?: boolean;
  keepGoing?: boolean;
  jobs: number;
  runCache: boolean;
  json?: boolean;
}

/** `mlops repro` as the CLI runs it (also under `exp run`); true when every selected stage succeeded. */
export async function reproduceFromCli(project: Project, targets: string[], opts: ReproCliOptions): Promise<boolean> {
  const { repro } = await import('../../pipeline/repro.js');
  const { launcherDir } = await import('../launcher.js');
  const logger = await stageLogger(Boolean(opts.json), opts.jobs > 1);
  const results = await repro(
    project,
    {
      file: opts.file,
      targets,
      downstream: opts.downstream,
      singleItem: opts.singleItem,
      force: opts.force,
      dry: opts.dry,
      keepGoing: opts.keepGoing,
      jobs: opts.jobs,
      runCache: opts.runCache,
      launcherDir: launcherDir(),
      stdio: opts.json || opts.jobs > 1 ? 'pipe' : 'inherit',
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
    .argument('[targets...]', 'stages (or foreach/matrix groups) to reproduce, with what they depend on')
    .addOption(fileOption())
    .option('--force', 'run the selected stages even if nothing changed')
    .option('--dry', 'print what would run and why, without running')
    .option('--downstream', 'also run the stages that depend on the targets')
    .option('--single-item', 'run only the targets, not what they depend on')
    .option('-k, --keep-going', 'after a failure, go on with stages that do not depend on it')
    .option('-j, --jobs <n>', 'stages to run at once when the graph allows', jobs, 1)
    .option('--no-run-cache', 'always run the command instead of restoring outputs seen before')
    .addOption(jsonOption('print a JSON report of every stage at the end'))
    .action(async (targets: string[], opts: ReproCliOptions) => {
      if (!(await reproduceFromCli(await openProject(), targets, opts))) process.exitCode = 1;
    });

  program
    .command('status')
    .description('show which stages would run and why, without running them')
    .argument('[targets...]', 'stages to check')
    .addOption(fileOption())
    .addOption(jsonOption())
    .action(async (targets: string[], opts) => {
      const { repro } = await import('../../pipeline/repro.js');
      const { describeReason } = await import('../../pipeline/status.js');
      const changed: Record<string, string[]> = {};
      await repro(await openProject(), { file: opts.file, targets, dry: true }, (e) => {
        if (e.type === 'stage-done' && e.outcome === 'would-run') changed[e.stage] = e.reasons.map(describeReason);
      });
      if (opts.json) return printJsonLazy(changed);
      for (const [stage, reasons] of Object.entries(changed)) process.stdout.write(`${stage}: changed (${reasons.join('; ')})\n`);
      if (Object.keys(changed).length === 0) process.stdout.write('Data and pipelines are up to date.\n');
    });

  program
    .command('checkout')
    .description('restore the outputs recorded in the lock file from the cache')
    .argument('[targets...]', 'stages whose outputs to restore')
    .addOption(fileOption())
    .addOption(jsonOption())
    .action(async (targets: string[], opts) => {
      const { checkoutOutputs } = await import('../../pipeline/repro.js');
      const report = await checkoutOutputs(await openProject(), { file: opts.file, targets }, await waitingNotice());
      if (opts.json) await printJsonLazy(report);
      else {
        for (const p of report.restored) process.stdout.write(`restored ${p}\n`);
        for (const f of report.failed) process.stderr.write(`error: ${f.path}: ${f.message}\n`);
        process.stdout.write(`${report.restored.length} restored, ${report.unchanged.length} unchanged, ${report.failed.length} failed\n`);
      }
      if (report.failed.length) process.exitCode = 1;
    });

  program
    .command('gc')
    .description('remove cache objects that the lock file no longer references')
    .addOption(fileOption())
    .option('--dry', 'list what would be removed')
    .addOption(jsonOption())
    .action(async (opts) => {
      const [{ gc }, { registeredObjects }] = await Promise.all([import('../../pipeline/repro.js'), import('../../registry/content.js')]);
      const project = await openProject();
      // Registered model versions' files are in no lock file, and must survive gc.
      const keep = () => registeredObjects(project);
      const removed = await gc(project, { file: opts.file, dry: opts.dry, keep }, await waitingNotice());
      if (opts.json) return printJsonLazy({ removed, dry: Boolean(opts.dry) });
      for (const md5 of removed) process.stdout.write(`${opts.dry ? 'would remove' : 'removed'} ${md5}\n`);
      process.stdout.write(`${removed.length} object(s) ${opts.dry ? 'would be ' : ''}removed\n`);
    });
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

async function stageLogger(json: boolean, parallel: boolean): Promise<{ emit: Emit; finish(): Promise<void> | void }> {
  if (json) {
    const { jsonLogger } = await import('../loggers/json.js');
    const logger = jsonLogger();
    return { emit: logger.emit, finish: () => printJsonLazy(logger.document()) };
  }
  const { textLogger } = await import('../loggers/text.js');
  const logger = textLogger({ prefixOutput: parallel });
  return { emit: logger.emit, finish: () => void process.stdout.write(`${logger.summary()}\n`) };
}
