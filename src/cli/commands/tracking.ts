import type { Command } from 'commander';
import { jsonOption } from '../options.js';

// `mlops tracking migrate`: the tracking store and registry copied from one URI to another.

export function register(program: Command): void {
  const tracking = program.command('tracking').description('the tracking store itself: copy it between kinds of store');

  tracking
    .command('migrate')
    .description('copy experiments, runs (params, metric histories, tags, artifacts) and registered models from one store to another; run again to copy only what is new')
    .requiredOption('--from <uri>', 'the store to copy from: a folder, file:PATH, sqlite:///PATH or postgresql://...')
    .requiredOption('--to <uri>', 'the store to copy into (created when it does not exist)')
    .option('--dry-run', 'count what would be copied; write nothing')
    .addOption(jsonOption('JSON: {dry_run, from, to, counts, ...}'))
    .action(async (opts: { from: string; to: string; dryRun?: boolean; json?: boolean }) => {
      const { migrateCommand } = await import('../migrate-view.js');
      await migrateCommand(opts);
    });
}
