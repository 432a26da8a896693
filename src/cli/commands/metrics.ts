import { Option, type Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { DEFAULT_PRECISION } from '../../metrics/report.js';
import type { Snapshot } from '../../metrics/collect.js';
import { fileOption, jsonOption, mdOption } from '../options.js';
import { printJson } from '../output.js';
import { openProject } from '../project.js';

// `metrics show|diff` and `params diff`, DVC's commands of the same names. Files come from every
// pipeline file of the project, or only --file's (stage metrics/params and the top-level lists),
// unless given explicitly.

interface OutputFlags {
  json?: boolean;
  md?: boolean;
  file?: string;
}

const precisionOption = () =>
  new Option('--precision <n>', 'decimal places for floats in tables').default(DEFAULT_PRECISION).argParser((value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 20) throw new UsageError(`--precision: expected an integer from 0 to 20, got '${value}'`);
    return n;
  });

async function declaredFiles(kind: 'metrics' | 'params', file?: string): Promise<string[]> {
  const [{ projectPipelines }, { metricsFiles, paramsFiles }] = await Promise.all([import('../project.js'), import('../../metrics/collect.js')]);
  const { root, pipelines } = await projectPipelines(file);
  return kind === 'metrics' ? metricsFiles(pipelines) : paramsFiles(root, pipelines);
}

async function printTable(table: { header: string[]; rows: string[][] }, md?: boolean): Promise<void> {
  const { markdownTable, textTable } = await import('../table.js');
  process.stdout.write((md ? markdownTable : textTable)(table.header, table.rows));
}

/**
 * One row per file, as DVC prints it; on a terminal too narrow for that, one row per metric instead
 * (piped or in CI the wide form stays, for stable output).
 */
async function printShowTable(snapshot: Snapshot, flags: { md?: boolean; precision: number }): Promise<void> {
  const [{ showLongTable, showTable }, { terminalWidth, textTable }] = await Promise.all([import('../../metrics/report.js'), import('../table.js')]);
  const wide = showTable(snapshot, flags.precision);
  const width = flags.md ? undefined : await terminalWidth();
  const fits = width === undefined || textTable(wide.header, wide.rows).split('\n').every((line) => line.length <= width);
  await printTable(fits ? wide : showLongTable(snapshot, flags.precision), flags.md);
}

type DiffFlags = OutputFlags & { all?: boolean; targets?: string[]; precision?: number };

async function diffCommand(kind: 'metrics' | 'params', aRev: string | undefined, bRev: string | undefined, flags: DiffFlags): Promise<void> {
  const [{ diffValues }, { diffTable }] = await Promise.all([import('../../metrics/compare.js'), import('../../metrics/report.js')]);
  const { root } = await openProject();
  const files = flags.targets?.length ? flags.targets : await declaredFiles(kind, flags.file);
  const metrics = kind === 'metrics';
  const { labels, result } = await diffValues(root, kind, files, { a: aRev, b: bRev, all: flags.all });
  if (flags.json) return printJson(result);
  if (!Object.keys(result).length) {
    process.stderr.write(`no ${kind} changed between ${labels[0]} and ${labels[1]}\n`);
    return;
  }
  await printTable(diffTable(result, labels, { kind: metrics ? 'Metric' : 'Param', precision: metrics ? flags.precision : undefined }), flags.md);
}

/** `metrics diff` and `params diff`: the same arguments and flags, DVC's `diff` semantics. */
function diffSubcommand(parent: Command, kind: 'metrics' | 'params', defaultFiles: string): Command {
  return parent
    .command('diff')
    .description(`compare ${kind} between two git revisions (default HEAD and the workspace)`)
    .argument('[a_rev]', 'old revision', 'HEAD')
    .argument('[b_rev]', "new revision ('workspace' for the files on disk)", 'workspace')
    .option('--targets <files...>', `${kind} files to compare (default: ${defaultFiles})`)
    .addOption(fileOption())
    .addOption(jsonOption())
    .addOption(mdOption())
    .option('--all', `include unchanged ${kind}`)
    .action((a: string, b: string, flags: DiffFlags) => diffCommand(kind, a, b, flags));
}

export function register(program: Command): void {
  const metrics = program.command('metrics').description('show and compare the metrics files the pipeline declares');

  metrics
    .command('show')
    .description('the metrics files (or the given ones) with their flattened keys')
    .argument('[targets...]', 'metrics files (default: every metrics file the pipeline declares)')
    .addOption(fileOption())
    .addOption(jsonOption())
    .addOption(mdOption())
    .option('-A, --all-commits', 'one table per commit of the current branch, newest first')
    .addOption(precisionOption())
    .action(async (targets: string[], flags: OutputFlags & { allCommits?: boolean; precision: number }) => {
      const [{ showValues }, { snapshotJson }] = await Promise.all([import('../../metrics/compare.js'), import('../../metrics/report.js')]);
      const { root } = await openProject();
      const files = targets.length ? targets : await declaredFiles('metrics', flags.file);
      const trees = await showValues(root, files, flags.allCommits ? Infinity : undefined);
      if (flags.json) {
        return printJson(
          flags.allCommits ? Object.fromEntries(trees.map((t) => [t.label, snapshotJson(t.snapshot)])) : snapshotJson(trees[0]!.snapshot),
        );
      }
      for (const [i, { label, title, snapshot }] of trees.entries()) {
        const gap = i ? '\n' : '';
        if (flags.allCommits) process.stdout.write(flags.md ? `${gap}### ${label} ${title}\n\n` : `${gap}${label} ${title}\n`);
        const missing = [...snapshot].filter(([, v]) => v === null).map(([file]) => file);
        if (!flags.allCommits && missing.length) process.stderr.write(`warning: not found: ${missing.join(', ')}\n`);
        if (missing.length < snapshot.size) await printShowTable(snapshot, flags);
        else if (!flags.allCommits) process.stderr.write('no metrics files to show\n');
      }
    });

  diffSubcommand(metrics, 'metrics', 'those the pipeline declares').addOption(precisionOption());
  diffSubcommand(program.command('params').description('compare the params files the pipeline tracks'), 'params',
    'those the pipeline tracks, and params.yaml');
}
