import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { fileOption, jsonOption } from '../options.js';
import { openProject } from '../project.js';
import { scope } from './repro.js';

interface StagesOptions {
  file?: string;
  all?: boolean;
  json?: boolean;
}

// Pipeline commands: `stages` (`stage list`) lists the expanded stages, `dag` draws the stage graph.
export function register(program: Command): void {
  const listStages = async (options: StagesOptions) => {
    const { graph, here } = await load(options.file);
    const { defaultFileOf } = await import('../../pipeline/address.js');
    // As `dvc stage list`: the current folder's pipeline file, or every one with --all.
    const own = options.file !== undefined ? graph.pipelines[0]?.fileRel : defaultFileOf(graph.pipelines, here);
    if (!options.all && own === undefined) throw new UsageError('no pipeline.yaml or dvc.yaml here (use --all for every pipeline, or --file FILE)');
    const stages = options.all ? graph.pipelines.flatMap((p) => p.stages) : graph.pipelines.find((p) => p.fileRel === own)!.stages;
    const show = await import('../../pipeline/show.js');
    if (options.json) (await import('../output.js')).printJson(show.stagesJson(stages));
    else if (stages.length) process.stdout.write(`${show.stagesText(stages)}\n`);
  };
  const stagesCommand = (command: Command) =>
    command
      .addOption(fileOption())
      .option('-A, --all', 'every stage of every pipeline of the project')
      .addOption(jsonOption())
      .action(listStages);

  stagesCommand(program.command('stages').description("list the expanded stages of this folder's pipeline file"));
  stagesCommand(program.command('stage').description('stage commands').command('list').description("list the expanded stages of this folder's pipeline file"));

  program
    .command('dag')
    .description('show the stage graph of every pipeline (or of one target and what it depends on)')
    .argument('[target]', "stage ('name', 'path/dvc.yaml:name'), foreach/matrix group, or pipeline file")
    .addOption(fileOption())
    .option('--mermaid', 'print a Mermaid flowchart')
    .option('--dot', 'print Graphviz dot')
    .addOption(jsonOption('print JSON {stages, edges}'))
    .action(async (target: string | undefined, options: { file?: string; mermaid?: boolean; dot?: boolean; json?: boolean }) => {
      if ([options.mermaid, options.dot, options.json].filter(Boolean).length > 1) {
        throw new UsageError('choose one of --mermaid, --dot and --json');
      }
      const { graph, here } = await load(options.file);
      const show = await import('../../pipeline/show.js');
      const view = show.dagView(graph, graph.select(target === undefined ? [] : [target], { cwdRel: here }));
      if (options.json) return (await import('../output.js')).printJson(view);
      const text = options.mermaid ? show.dagMermaid(view) : options.dot ? show.dagDot(view) : show.dagText(view);
      if (text) process.stdout.write(`${text}\n`);
    });
}

async function load(file: string | undefined) {
  const [{ loadProject }, { buildGraph }, { cwdRel }] = await Promise.all([
    import('../../pipeline/load.js'),
    import('../../pipeline/graph.js'),
    import('../../pipeline/address.js'),
  ]);
  const project = await openProject();
  const { cwd, file: abs } = scope(project, file);
  const { pipelines } = loadProject(project.root, cwd, { file: abs });
  return { graph: buildGraph(pipelines), here: cwdRel(project.root, cwd) };
}
