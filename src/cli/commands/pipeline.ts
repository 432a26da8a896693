import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { fileOption, jsonOption } from '../options.js';
import { openProject } from '../project.js';

// Pipeline commands: `stages` lists the expanded pipeline, `dag` draws its stage graph.
export function register(program: Command): void {
  program
    .command('stages')
    .description('list the expanded stages of the pipeline file')
    .addOption(fileOption())
    .addOption(jsonOption())
    .action(async (options: { file?: string; json?: boolean }) => {
      const pipeline = await load(options.file);
      const show = await import('../../pipeline/show.js');
      if (options.json) (await import('../output.js')).printJson(show.stagesJson(pipeline));
      else if (pipeline.stages.length) process.stdout.write(`${show.stagesText(pipeline)}\n`);
    });

  program
    .command('dag')
    .description('show the stage graph (of one target and what it depends on, when given)')
    .argument('[target]', 'stage, foreach/matrix group, or file.yaml:stage')
    .addOption(fileOption())
    .option('--mermaid', 'print a Mermaid flowchart')
    .option('--dot', 'print Graphviz dot')
    .addOption(jsonOption('print JSON {stages, edges}'))
    .action(async (target: string | undefined, options: { file?: string; mermaid?: boolean; dot?: boolean; json?: boolean }) => {
      if ([options.mermaid, options.dot, options.json].filter(Boolean).length > 1) {
        throw new UsageError('choose one of --mermaid, --dot and --json');
      }
      const pipeline = await load(options.file);
      const { buildGraph } = await import('../../pipeline/graph.js');
      const show = await import('../../pipeline/show.js');
      const graph = buildGraph(pipeline);
      const view = show.dagView(graph, graph.select(target === undefined ? [] : [target]));
      if (options.json) return (await import('../output.js')).printJson(view);
      const text = options.mermaid ? show.dagMermaid(view) : options.dot ? show.dagDot(view) : show.dagText(view);
      if (text) process.stdout.write(`${text}\n`);
    });
}

async function load(file: string | undefined) {
  const { loadPipeline } = await import('../../pipeline/load.js');
  return loadPipeline((await openProject()).root, file);
}
