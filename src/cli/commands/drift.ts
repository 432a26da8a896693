import type { Command } from 'commander';
import type { TrackedRun } from '../../tracking/run.js';
import type { DriftFlags } from '../../drift/config.js';
import { jsonOption, mdOption } from '../options.js';

export function register(program: Command): void {
  program
    .command('drift')
    .description('detect data drift between a reference and a current CSV (KS for numeric columns, chi-square for categories)')
    .option('--reference <csv>', 'reference data, or models:/NAME@ALIAS for the raw data that version was trained on (with --current; without both, params.yaml `drift:` is used)')
    .option('--current <csv>', 'current data to compare with the reference')
    .option('--columns <names>', 'comma-separated columns to compare (default: all)')
    .option('--test <test>', 'auto | ks | chi2 (auto: KS for numeric columns with more than 5 distinct values)')
    .option('--alternative <alt>', 'two-sided | less | greater (KS only)')
    .option('--threshold <p>', 'a column drifts when its corrected p-value is below this (default 0.05)')
    .option('--correction <method>', 'none | bonferroni | fdr (default bonferroni)')
    .option('--report <path>', 'also write the JSON report here')
    .addOption(jsonOption('print the report as JSON'))
    .addOption(mdOption())
    .option('--fail-on-drift', 'exit 1 when drift is found')
    .action(async (flags: DriftFlags & { json?: boolean; md?: boolean }) => {
      const [{ runDrift, isStageMode }, { reportRows, summaryLine, HEADER }, { FailureError }, output, { color }, table] = await Promise.all([
        import('../../drift/run.js'),
        import('../../drift/render.js'),
        import('../../core/errors.js'),
        import('../output.js'),
        import('../color.js'),
        import('../table.js'),
      ]);
      if (flags.reference?.startsWith('models:/')) {
        const [{ referenceData }, { openProject }] = await Promise.all([import('../../registry/resolve.js'), import('../project.js')]);
        flags.reference = await referenceData(await openProject(), flags.reference);
      }
      const check = async (root: string, run?: TrackedRun) => {
        const { config, report } = await output.withSpinner('checking drift', () => runDrift(root, flags, run));
        if (flags.json) {
          output.printJson(report);
        } else if (flags.md) {
          process.stdout.write(`### Data drift\n\n${table.markdownTable(HEADER, reportRows(report))}\n**${summaryLine(report)}**\n`);
        } else {
          // Only the last cell is coloured: it is never padded, so escape codes cannot skew the widths.
          const rows = reportRows(report).map((r) => [...r.slice(0, -1), r.at(-1) === 'yes' ? color.red('yes') : 'no']);
          process.stdout.write(table.textTable(HEADER, rows));
          process.stdout.write(`${(report.drift ? color.red : color.green)(summaryLine(report))}\n`);
        }
        if (config.failOnDrift && report.drift) {
          throw new FailureError(`drift detected in ${report.drifted_columns.length} column(s): ${report.drifted_columns.join(', ')}`);
        }
      };
      // As a pipeline stage (configured by params.yaml) the check is a tracked run; ad hoc comparisons are not.
      if (!isStageMode(flags)) return check(process.cwd());
      const { tracked } = await import('./ml.js');
      await tracked('drift', (run, project) => check(project.root, run));
    });
}
