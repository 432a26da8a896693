import type { Command } from 'commander';
import { fileOption } from '../options.js';

// `plots show`, DVC's command of the same name: one offline HTML page of every pipeline's plots, the
// built-in stages' reports it declares, and a metric across runs.

export function register(program: Command): void {
  program
    .command('plots')
    .description('charts of the pipeline plots, evaluation reports and runs')
    .command('show')
    .description('write one self-contained HTML page of every chart')
    .option('-o, --out <dir>', 'output folder', 'mlops_plots')
    .addOption(fileOption())
    .option('--metric <key>', 'metric drawn across runs (default: the one most runs logged)')
    .action(async (flags: { out: string; file?: string; metric?: string }) => {
      const [{ projectPipelines }, { declaredPaths, pipelinePlots }, { writePlots }] = await Promise.all([
        import('../project.js'),
        import('../../plots/defined.js'),
        import('../../plots/build.js'),
      ]);
      // Without a pipeline file the built-in reports and runs are still worth a page.
      const { project, root, pipelines } = await projectPipelines(flags.file);
      const page = await writePlots(root, flags.out, {
        defs: pipelines.flatMap(pipelinePlots),
        declared: pipelines.length ? new Set(pipelines.flatMap((p) => [...declaredPaths(p)])) : undefined,
        metric: flags.metric,
        tracking: await project.tracking(),
      });
      for (const s of page.skipped) process.stderr.write(`note: skipped ${s.skipped}: ${s.reason}\n`);
      process.stdout.write(`${page.file}: ${page.charts.length} chart(s)\n`);
    });
}
