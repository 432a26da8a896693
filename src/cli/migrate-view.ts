import { existsSync } from 'node:fs';
import { ConfigError, UsageError } from '../core/errors.js';
import { displayPath } from '../core/display.js';
import type { MigrationCounts } from '../migrate/migrate.js';
import type { MigrateFlags } from './commands/tracking.js';
import { printJson } from './output.js';
import { progressBar } from './progress.js';
import { openProject } from './project.js';

// `mlops tracking migrate`: opens both stores by URI (a plain folder path taken from where the command
// runs, as every path on the command line), runs the migration under a progress bar and prints one
// summary line.

export async function migrateCommand(opts: MigrateFlags): Promise<void> {
  const project = await openProject();
  const [{ TRACKING_STORES, parseStoreUri }, { REGISTRY_STORES }, { migrate }, { artifactRootSetting, s3ArtifactRoot }] = await Promise.all([
    import('../project/stores.js'), import('../registry/open.js'), import('../migrate/migrate.js'), import('../project/tracking.js'),
  ]);
  const located = (uri: string) => {
    const { scheme, path } = parseStoreUri(uri, project.cwd);
    return scheme === 'file' ? path : uri;
  };
  const [fromUri, toUri] = [located(opts.from), located(opts.to)];
  if (fromUri === toUri) throw new UsageError(`--from and --to are the same store (${opts.from})`);
  // A mistyped source folder would otherwise open as an empty store and "copy nothing".
  if (parseStoreUri(fromUri, project.root).scheme === 'file' && !existsSync(fromUri)) throw new UsageError(`--from ${opts.from}: no such folder (${displayPath(fromUri)})`);
  const notice = (line: string) => process.stderr.write(`${line}\n`);
  const configured = artifactRootSetting(project.root, project.config);
  // A folder from where the command runs; an S3 location as it is.
  const artifactRoot = (flag: string) => (/^s3:/i.test(flag) ? s3Root(flag) : project.fromCwd(flag));
  const s3Root = (flag: string) => {
    const checked = s3ArtifactRoot(flag);
    if (!checked.startsWith('s3://')) throw new UsageError(checked);
    return checked;
  };
  const fromRoot = opts.fromArtifactRoot === undefined ? configured : artifactRoot(opts.fromArtifactRoot);
  const toRoot = opts.toArtifactRoot === undefined ? fromRoot : artifactRoot(opts.toArtifactRoot);
  const open = async (uri: string, artifactRoot: string | undefined) => {
    const context = { notice, ...(artifactRoot === undefined ? {} : { artifactRoot }) };
    return { tracking: await TRACKING_STORES.open(uri, project.root, context), registry: await REGISTRY_STORES.open(uri, project.root, context) };
  };
  const from = await open(fromUri, fromRoot);
  const to = await open(toUri, toRoot);
  const bar = progressBar(opts.dryRun ? 'comparing' : 'migrating');
  let result;
  try {
    result = await migrate(from, to, { dryRun: opts.dryRun, onProgress: (p) => bar.update(p.done, p.total, p.item) });
  } finally {
    bar.stop();
    for (const store of [from.tracking, from.registry, to.tracking, to.registry]) await store.close?.();
  }
  const { counts, skipped, deletedExperiments } = result;
  if (opts.json) {
    printJson({ dry_run: Boolean(opts.dryRun), from: opts.from, to: opts.to, counts, skipped, deleted_experiments: deletedExperiments });
  } else {
    process.stdout.write(`${summary(counts, opts)}\n`);
  }
  if (deletedExperiments.length) {
    process.stderr.write(`note: deleted experiments are not copied: ${deletedExperiments.join(', ')}\n`);
  }
  if (skipped.length) {
    for (const s of skipped) process.stderr.write(`warning: ${displayPath(s.path)}: ${s.reason}; run not copied\n`);
    throw new ConfigError(`${skipped.length} run${skipped.length === 1 ? '' : 's'} of ${opts.from} could not be read and ${skipped.length === 1 ? 'was' : 'were'} not copied (listed above)`);
  }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** One stable line for a terminal, a log or CI: what was (or would be) copied. */
function summary(c: MigrationCounts, opts: { from: string; to: string; dryRun?: boolean }): string {
  const parts = [
    plural(c.experiments, 'experiment'), plural(c.runs, 'run'), plural(c.params, 'param'), plural(c.metrics, 'metric value'),
    plural(c.tags, 'tag'), plural(c.artifacts, 'artifact'), plural(c.updates, 'run status update'),
    plural(c.models, 'model'), plural(c.versions, 'model version'), plural(c.events, 'alias event'), plural(c.modelChanges, 'model change'),
  ];
  if (Object.values(c).every((n) => n === 0)) return `nothing to copy: ${opts.to} already holds everything in ${opts.from}`;
  return `${opts.dryRun ? 'would copy' : 'copied'} ${parts.join(', ')} from ${opts.from} to ${opts.to}`;
}
