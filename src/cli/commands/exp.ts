import { Command, Option } from 'commander';
import { fileOption, jsonOption, mdOption } from '../options.js';
import { openProject } from '../project.js';
import { jobs, printJsonLazy, reproduceFromCli } from './repro.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command): void {
  const exp = program.command('exp').description('run and compare experiments (params overrides + repro, recorded as runs)');

  exp
    .command('run')
    .description('write -S overrides into the params file, reproduce, and record the experiment')
    .argument('[targets...]', 'stages to reproduce (default: all)')
    .option('-S, --set-param <[file:]key=value>', 'set a param for this experiment (repeatable)', collect, [])
    .option('-n, --name <name>', 'experiment name (default: exp-<timestamp>)')
    .addOption(fileOption())
    .option('--force', 'run the selected stages even if nothing changed')
    .option('-j, --jobs <n>', 'stages to run at once when the graph allows', jobs, 1)
    .option('--no-run-cache', 'always run the command instead of restoring outputs seen before')
    .action(async (targets: string[], opts: { setParam: string[]; name?: string; file?: string; force?: boolean; jobs: number; runCache: boolean }) => {
      const { applyOverrides, parseOverride } = await import('../../exp/overrides.js');
      const { recordExperiment } = await import('../../exp/record.js');
      const project = await openProject();
      const overrides = opts.setParam.map(parseOverride);
      await applyOverrides(project.root, overrides);
      const ok = await reproduceFromCli(project, targets, { ...opts });
      const runId = await recordExperiment(project, {
        name: opts.name,
        overrides: overrides.map((o) => o.text),
        status: ok ? 'FINISHED' : 'FAILED',
        file: opts.file,
      });
      process.stdout.write(`experiment recorded as run ${runId}${ok ? '' : ' (FAILED)'}\n`);
      if (!ok) process.exitCode = 1;
    });

  exp
    .command('show')
    .description('one row per experiment (and the workspace) with its metrics and params')
    .addOption(fileOption())
    .addOption(jsonOption().conflicts(['csv', 'md']))
    .addOption(new Option('--csv', 'print CSV').conflicts(['md']))
    .addOption(mdOption())
    .option('--only-changed', 'only the columns whose values differ between rows')
    .option('--sort-by <key>', 'sort experiments by this metric or param')
    .addOption(new Option('--sort-order <order>', 'with --sort-by').choices(['asc', 'desc']).default('asc'))
    .option('--precision <n>', 'significant digits for numbers', (v) => Number(v), 5)
    .action(async (opts: { file?: string; json?: boolean; csv?: boolean; md?: boolean; onlyChanged?: boolean; sortBy?: string; sortOrder: 'asc' | 'desc'; precision: number }) => {
      const { experimentRows, expTable } = await import('../../exp/show.js');
      const rows = await experimentRows(await openProject(), opts.file);
      if (opts.json) return printJsonLazy(rows);
      const table = expTable(rows, opts);
      const { markdownTable, textTable } = await import('../table.js');
      const format = opts.csv ? (await import('../../core/csv.js')).formatCsv : opts.md ? markdownTable : textTable;
      process.stdout.write(format(table.header, table.rows));
    });
}
