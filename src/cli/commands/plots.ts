import type { Command } from 'commander';
import { fileOption } from '../options.js';
import { openProject } from '../project.js';

// `plots show`, DVC's command of the same name: one offline HTML page of the pipeline's plots, the
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
      const [{ existsSync }, { join }, { loadPipeline, PIPELINE_FILES }, { declaredPaths, pipelinePlots }, { writePlots }] =
        await Promise.all([
          import('node:fs'),
          import('node:path'),
          import('../../pipeline/load.js'),
          import('../../plots/defined.js'),
          import('../../plots/build.js'),
        ]);
      const project = await openProject();
      const { root } = project;
      // Without a pipeline file the built-in reports and runs are still worth a page.
      const hasPipeline = flags.file !== undefined || PIPELINE_FILES.some((f) => existsSync(join(root, f)));
      const pipeline = hasPipeline ? loadPipeline(root, flags.file) : undefined;
      const page = await writePlots(root, flags.out, {
        defs: pipeline ? pipelinePlots(pipeline) : [],
        declared: pipeline ? declaredPaths(pipeline) : undefined,
        metric: flags.metric,
        tracking: await project.tracking(),
      });
      for (const s of page.skipped) process.stderr.write(`note: skipped ${s.skipped}: ${s.reason}\n`);
      process.stdout.write(`${page.file}: ${page.charts.length} chart(s)\n`);
    });
}
