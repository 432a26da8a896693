import type { Command } from 'commander';
import type { MonitorDriftFlags } from '../../monitor/config.js';
import type { PeriodFlags } from '../../monitor/period.js';
import { jsonOption, mdOption } from '../options.js';

// `mlops monitor drift|outcomes`: what a served model saw and how it did, from the prediction log.
// Parsing and printing only; src/monitor/ does the work. Exit 1 when a check fails (drift with
// --fail-on-drift, a breached gate), 2 for bad input.

const DEFAULT_MODEL = 'models:/obesity_classifier@champion';

interface Shared extends PeriodFlags {
  json?: boolean;
  md?: boolean;
  alertWebhook?: string;
  minRows?: string;
}

function periodOptions(command: Command): Command {
  return command
    .argument('[model]', 'models:/NAME@ALIAS (every version that held the alias in the period), models:/NAME/VERSION or models:/NAME/latest', DEFAULT_MODEL)
    .option('--since <duration>', 'the period up to now: 30m, 12h, 7d, 2w (default 7d)')
    .option('--from <time>', 'start of the period, ISO 8601 (2026-11-01T00:00:00Z or 2026-11-01)')
    .option('--to <time>', 'end of the period, ISO 8601 (default now)')
    .option('--window <duration>', 'cut the period into windows of this length (default: one window)')
    .option('--min-rows <n>', 'windows with fewer rows are reported as too small, not tested or gated (default 100)')
    .option('--alert-webhook <url>', 'POST a JSON summary here when the check fails')
    .addOption(jsonOption('print the report as JSON'))
    .addOption(mdOption());
}

async function common(flags: Shared) {
  const [{ periodFromFlags }, { checkWebhookUrl }, { openProject }] = await Promise.all([
    import('../../monitor/period.js'),
    import('../../monitor/alert.js'),
    import('../project.js'),
  ]);
  return {
    period: periodFromFlags(flags, new Date()),
    alertWebhook: flags.alertWebhook === undefined ? undefined : checkWebhookUrl(flags.alertWebhook),
    warn: (message: string) => process.stderr.write(`${message}\n`),
    project: await openProject(),
  };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function register(program: Command): void {
  const monitor = program.command('monitor').description('monitor a served model from its prediction log: input drift against the training data, realized performance from outcomes');

  periodOptions(monitor.command('drift').description("drift of the logged inputs against the model's training reference, per window (KS / chi-square as `mlops drift`, plus Wasserstein and PSI)"))
    .option('--columns <names>', 'comma-separated columns to compare (default: all)')
    .option('--test <test>', 'auto | ks | chi2 (auto: KS for numeric columns with more than 5 distinct values)')
    .option('--alternative <alt>', 'two-sided | less | greater (KS only)')
    .option('--threshold <p>', 'a column drifts when its corrected p-value is below this (default 0.05)')
    .option('--correction <method>', 'none | bonferroni | fdr (default bonferroni)')
    .option('--rule <rule>', 'what decides drift: p-value | distance | both (default p-value; both: significant and large enough)')
    .option('--wasserstein-threshold <d>', "distance drift: Wasserstein distance / the reference's standard deviation at or above this (default 0.1)")
    .option('--psi-threshold <psi>', 'distance drift: population stability index at or above this (default 0.2)')
    .option('--fail-on-drift', 'exit 1 when any window drifts')
    .action(async (model: string, flags: Shared & MonitorDriftFlags & { failOnDrift?: boolean }) => {
      const [{ monitorDriftOptions }, { runDriftCheck }, render, output, { color }, table, { FailureError }] = await Promise.all([
        import('../../monitor/config.js'),
        import('../../monitor/check.js'),
        import('../../monitor/render.js'),
        import('../output.js'),
        import('../color.js'),
        import('../table.js'),
        import('../../core/errors.js'),
      ]);
      const options = monitorDriftOptions(flags);
      const { project, ...shared } = await common(flags);
      const check = await output.withSpinner('checking drift', () => runDriftCheck(project, { uri: model, ...shared, ...options, failOnDrift: Boolean(flags.failOnDrift) }));
      const columns = render.columnRows(check);
      const summary = render.driftSummary(check);
      if (flags.json) {
        output.printJson(check);
      } else if (flags.md) {
        const detail = columns ? `\n${table.markdownTable(render.COLUMN_HEADER, columns)}` : '';
        process.stdout.write(`### Production drift\n\n${table.markdownTable(render.WINDOW_HEADER, render.windowRows(check))}${detail}\n**${summary}**\n`);
      } else {
        process.stdout.write(table.textTable(render.WINDOW_HEADER, render.windowRows(check)));
        if (columns) process.stdout.write(`\n${table.textTable(render.COLUMN_HEADER, columns)}`);
        process.stdout.write(`${(check.drift ? color.red : color.green)(summary)}\n`);
      }
      if (flags.failOnDrift && check.drift) throw new FailureError(`drift detected in ${check.drifted_windows} window(s) (run ${check.run_id})`);
    });

  periodOptions(monitor.command('outcomes').description('realized accuracy, F1, log loss and Brier score: ground truth joined to the logged predictions by request id'))
    .option('--labels <csv>', "the outcomes: a CSV with the id and the true label (default: the labels table 'mlops predictions label' loads)")
    .option('--id-column <name>', "what joins labels to predictions: request_id (a batch request's rows are ID:0, ID:1, ...) or the key column the server logged (serve --id-column)", 'request_id')
    .option('--label-column <name>', "the labels file's true class column", 'y')
    .option('--min <metric=value>', 'gate: exit 1 when the metric is below (accuracy, f1_macro, log_loss, brier); repeatable', collect)
    .option('--max <metric=value>', 'gate: exit 1 when the metric is above; repeatable', collect)
    .action(async (model: string, flags: Shared & { labels?: string; idColumn: string; labelColumn: string; min?: string[]; max?: string[] }) => {
      const [{ minRows }, { MONITOR_DEFAULTS }, { runOutcomeCheck }, { parseGate }, render, output, { color }, table, { FailureError }, { resolve, relative }] = await Promise.all([
        import('../../monitor/config.js'),
        import('../../monitor/drift.js'),
        import('../../monitor/check.js'),
        import('../../monitor/outcomes.js'),
        import('../../monitor/render.js'),
        import('../output.js'),
        import('../color.js'),
        import('../table.js'),
        import('../../core/errors.js'),
        import('node:path'),
      ]);
      const gates = [...(flags.min ?? []).map((g) => parseGate(g, 'min')), ...(flags.max ?? []).map((g) => parseGate(g, 'max'))];
      const rows = minRows(flags.minRows, MONITOR_DEFAULTS.minRows);
      const { project, ...shared } = await common(flags);
      const labels = flags.labels === undefined ? undefined : resolve(project.cwd, flags.labels);
      const labelsShown = labels === undefined ? undefined : relative(project.root, labels) || labels;
      const check = await output.withSpinner('joining outcomes', () =>
        runOutcomeCheck(project, { uri: model, ...shared, labels, labelsShown, idColumn: flags.idColumn, labelColumn: flags.labelColumn, gates, minRows: rows }),
      );
      const lines = render.outcomeLines(check);
      if (flags.json) {
        output.printJson(check);
      } else if (flags.md) {
        process.stdout.write(`### Realized performance\n\n${table.markdownTable(render.OUTCOME_HEADER, render.outcomeRows(check))}\n${lines.map((l) => `- ${l}`).join('\n')}\n`);
      } else {
        process.stdout.write(table.textTable(render.OUTCOME_HEADER, render.outcomeRows(check)));
        for (const line of lines) process.stdout.write(`${line.startsWith('FAILED') ? color.red(line) : line}\n`);
      }
      if (!check.passed) throw new FailureError(`${check.gates.filter((g) => !g.passed).length} gate(s) failed (run ${check.run_id})`);
    });
}
