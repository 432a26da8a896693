import type { Command } from 'commander';
import type { Project } from '../../project/project.js';
import type { TrackedRun } from '../../tracking/run.js';
import { jsonOption, mdOption } from '../options.js';
import { interactive, printJson, withSpinner } from '../output.js';
import { openProject, pipelineStage, stageRunId } from '../project.js';
import { markdownTable, textTable } from '../table.js';

// The built-in ML stages: prepare, train, evaluate, predict. Domain code is imported inside each
// action so that `mlops --help` loads none of it.

const fixed = (v: number) => v.toFixed(4);

/**
 * Runs a built-in stage inside a tracked run: FINISHED, or FAILED when it throws (a failed gate too).
 * As a pipeline stage's cmd, it logs into that stage's run (MLFLOW_RUN_ID) rather than a second one.
 */
export async function tracked<T>(stageName: string, fn: (run: TrackedRun, project: Project) => Promise<T>): Promise<T> {
  const { withTrackedRun } = await import('../../tracking/tracked-run.js');
  const project = await openProject();
  return withTrackedRun({ project, stageName, pipelineStage: pipelineStage(), runId: stageRunId() }, (run) => fn(run, project));
}

/**
 * A model argument as files: a `models:/` URI resolves to the registered version's verified objects,
 * anything else as resolveModelArgument says, with transform.json beside it (unless one is given).
 */
async function modelFiles(project: Project, arg: string | undefined, transform?: string): Promise<{ model: string; transform: string }> {
  const [{ resolveModel }, { dirname, join }] = await Promise.all([import('../../registry/resolve.js'), import('node:path')]);
  const resolved = await resolveModel(project, arg);
  return { model: resolved.model, transform: transform ?? resolved.transform ?? join(dirname(resolved.model), 'transform.json') };
}

const paramText = (params: object) =>
  Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

export function register(program: Command): void {
  program
    .command('prepare')
    .description('split the raw CSV (params.yaml prepare:) into prepared train/test CSVs and fit the transform')
    .action(async () => {
      const { prepare } = await import('../../ml/prepare.js');
      const { PATHS } = await import('../../ml/paths.js');
      const s = await tracked('prepare', (run, project) => withSpinner('prepare: reading data', () => prepare(project.root, run)));
      const dropped = s.droppedRows ? `, ${s.droppedRows} rows dropped (missing values)` : '';
      const target = s.task === 'regression' ? 'a numeric target (regression)' : `${s.classes.length} classes`;
      console.log(`prepared ${s.trainRows} train and ${s.testRows} test rows, ${s.features} features, ${target}${dropped}`);
      console.log(`wrote ${PATHS.train}, ${PATHS.test}, ${PATHS.rawTrain}, ${PATHS.rawTest}, ${PATHS.transform}`);
    });

  program
    .command('train')
    .description('grid search with k-fold CV (params.yaml train:), refit the best, save the model')
    .addOption(jsonOption('print the CV results as JSON'))
    .addOption(mdOption('print the CV results as a markdown table'))
    .action(async (opts: { json?: boolean; md?: boolean }) => {
      const { candidateName, trainGridSearch } = await import('../../ml/train.js');
      const { PATHS } = await import('../../ml/paths.js');
      const started = Date.now();
      const summary = await tracked('train', (run, project) =>
        withSpinner('train: starting workers', (update) =>
        trainGridSearch(project.root, {
          run,
          fanOut: async (input) => (await import('../../queue/folds.js')).queueFoldExecutor(project, input, (line) => process.stderr.write(`${line}\n`)),
          onCandidate: (done, total, index, r) => {
            const elapsed = (Date.now() - started) / 1000;
            const eta = Math.round((elapsed / done) * (total - done));
            if (interactive) update(`train: ${done}/${total} candidates, ETA ${eta}s`);
            else if (!opts.json && !opts.md) console.log(`${candidateName(index)}: ${paramText(r.params)}: ${fixed(r.mean_score)} ± ${fixed(r.std_score)} (${done}/${total} done)`);
          },
        }),
        ),
      );
      const { search, scoring } = summary;
      if (opts.json) return printJson({ best_params: summary.bestParams, best_score: summary.bestScore, scoring, candidates: search.candidates });
      const header = ['rank', 'params', `mean ${scoring}`, 'std', 'fit s'];
      const rows = [...search.candidates]
        .sort((a, b) => a.rank - b.rank)
        .map((c) => [String(c.rank), paramText(c.params), fixed(c.mean_score), fixed(c.std_score), c.mean_fit_time.toFixed(2)]);
      process.stdout.write(opts.md ? markdownTable(header, rows) : textTable(header, rows));
      console.log(`best ${scoring} ${fixed(summary.bestScore)} (${summary.folds}-fold CV over ${summary.candidates} candidate${summary.candidates === 1 ? '' : 's'}): ${paramText(summary.bestParams)}`);
      if (!opts.md) console.log(`wrote ${PATHS.model}, ${PATHS.cvResults}`);
    });

  program
    .command('evaluate')
    .description('test-set metrics, confusion matrix and feature importance; exit 1 when a threshold gate fails')
    .option('--model <uri|file>', 'models:/NAME@ALIAS, models:/NAME/VERSION, models:/NAME/latest or a model JSON (default models/model.json)')
    .addOption(jsonOption('print the metrics as JSON'))
    .addOption(mdOption('print the metrics as a markdown table'))
    .action(async (opts: { model?: string; json?: boolean; md?: boolean }) => {
      const { evaluate, gateFailure, metricsOf } = await import('../../ml/evaluate.js');
      const { PATHS } = await import('../../ml/paths.js');
      await tracked('evaluate', async (run, project) => {
        const files = opts.model === undefined ? undefined : await modelFiles(project, opts.model);
        const { metrics, failed } = await withSpinner('evaluate: scoring the test set', () => evaluate(project.root, run, files));
        if (opts.json) printJson({ ...metrics, failed_gates: failed });
        else {
          const rows = metricsOf(metrics).map((m) => [m, fixed(metrics[m]!)]);
          process.stdout.write(opts.md ? markdownTable(['metric', 'value'], rows) : textTable(['metric', 'value'], rows));
          if (!opts.md) console.log(`wrote ${PATHS.metrics}, ${PATHS.perClass}, ${PATHS.confusion}, ${PATHS.importance}`);
        }
        if (failed.length) throw gateFailure(failed);
      });
    });

  program
    .command('predict')
    .description('apply the saved transform and model to a raw CSV')
    .option('--model <uri|file>', "models:/NAME@ALIAS, models:/NAME/VERSION, models:/NAME/latest or a model JSON (default: the project's models/model.json)")
    .requiredOption('--input <csv>', 'rows to predict, with the raw columns')
    .option('--transform <file>', "transform JSON (default: the registered version's, or transform.json beside the model)")
    .option('--id-column <name>', 'copy this input column, as written, to the first output column')
    .option('--output <csv>', 'write predictions here instead of stdout')
    .action(async (opts: { model?: string; input: string; transform?: string; idColumn?: string; output?: string }) => {
      const { predict } = await import('../../ml/predict.js');
      const files = await modelFiles(await openProject(), opts.model, opts.transform);
      const { writeTo } = await import('../write-to.js');
      let rows = 0;
      await writeTo(opts.output, async (write) => void (rows = await predict({ ...opts, ...files }, write)));
      if (opts.output) console.log(`wrote ${rows} predictions to ${opts.output}`);
    });
}
