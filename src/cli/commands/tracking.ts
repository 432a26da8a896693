import type { Command } from 'commander';
import { jsonOption } from '../options.js';

export interface MigrateFlags {
  from: string;
  to: string;
  fromArtifactRoot?: string;
  toArtifactRoot?: string;
  dryRun?: boolean;
  json?: boolean;
}

// `mlops tracking migrate`: the tracking store and registry copied from one URI to another.

export function register(program: Command): void {
  const tracking = program.command('tracking').description('the tracking store itself: copy it between kinds of store');

  tracking
    .command('migrate')
    .description('copy experiments, runs (params, metric histories, tags, artifacts) and registered models from one store to another; run again to copy only what is new')
    .requiredOption('--from <uri>', 'the store to copy from: a folder, file:PATH, sqlite:///PATH or postgresql://...')
    .requiredOption('--to <uri>', 'the store to copy into (created when it does not exist)')
    .option('--from-artifact-root <dir>', "a database source's artifact root, a folder or s3://bucket/prefix (default: tracking.artifact_root, else mlartifacts)")
    .option('--to-artifact-root <dir>', "where a database destination keeps artifacts (default: as --from-artifact-root)")
    .option('--dry-run', 'count what would be copied; write nothing')
    .addOption(jsonOption('JSON: {dry_run, from, to, counts, ...}'))
    .action(async (opts: MigrateFlags) => {
      const { migrateCommand } = await import('../migrate-view.js');
      await migrateCommand(opts);
    });
}
