import { Option, type Command } from 'commander';

// `mlops predictions list|export|label`: the prediction log `mlops serve` writes, read back, and the
// outcomes loaded beside it. The reading and printing are in ../predictions-view.ts, loaded inside
// the actions; loading labels is src/monitor/labels.ts.

export interface PredictionFlags {
  since?: string;
  from?: string;
  to?: string;
  model?: string;
  modelVersion?: string[];
  limit?: string;
  json?: boolean;
  csv?: boolean;
  output?: string;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

function queryOptions(command: Command): Command {
  return command
    .option('--since <when>', 'rows from this long ago (30m, 12h, 7d, 2w) or this time (ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00Z)')
    .option('--from <time>', 'rows at or after this time (ISO 8601)')
    .option('--to <time>', 'rows before this time (ISO 8601)')
    .option('--model <name>', 'only this registered model')
    .option('--model-version <n>', 'only this model version (repeatable; needs --model)', collect);
}

export function register(program: Command): void {
  const predictions = program.command('predictions').description('read the prediction log mlops serve writes (predictions.uri; default .mlops/predictions.db)');

  queryOptions(predictions.command('list').description('the newest logged predictions, oldest first'))
    .option('--limit <n>', 'at most this many rows (the newest)', '50')
    .addOption(new Option('--json', 'JSON: a list of records (request_id, time, model, input, prediction, probabilities, latency_ms)').conflicts('csv'))
    .option('--csv', 'CSV: one column per input column and per class probability')
    .action(async (opts: PredictionFlags) => {
      const { listPredictions } = await import('../predictions-view.js');
      await listPredictions(opts);
    });

  queryOptions(predictions.command('export').description('every logged prediction that matches, in time order, streamed (CSV by default)'))
    .addOption(new Option('--json', 'JSON lines: one record per line').conflicts('csv'))
    .option('--csv', 'CSV (the default): one column per input column and per class probability')
    .option('-o, --output <file>', 'write to this file (replaced whole when done) instead of stdout')
    .action(async (opts: PredictionFlags) => {
      const { exportPredictions } = await import('../predictions-view.js');
      await exportPredictions(opts);
    });

  predictions
    .command('label')
    .description("load outcomes (true labels) into the labels table beside the log, for 'mlops monitor outcomes' without --labels")
    .argument('<csv>', 'a CSV with the id and the true label, one row per id')
    .option('--id-column <name>', "the id: request_id (a batch request's rows are ID:0, ID:1, ...) or the key column the server logged (serve --id-column)", 'request_id')
    .option('--label-column <name>', 'the true class column', 'y')
    .action(async (file: string, opts: { idColumn: string; labelColumn: string }) => {
      const [{ loadLabels }, { openProject }, { resolve }] = await Promise.all([import('../../monitor/labels.js'), import('../project.js'), import('node:path')]);
      const project = await openProject();
      const loaded = await loadLabels(project, { file: resolve(project.cwd, file), idColumn: opts.idColumn, labelColumn: opts.labelColumn });
      process.stdout.write(`loaded ${loaded.labels} label(s) by ${opts.idColumn} (${loaded.replaced} replaced ones loaded before)\n`);
    });
}
