import { writeFileAtomic } from '../core/atomic.js';
import { ConflictError, FailureError, UsageError } from '../core/errors.js';
import { openProject } from './project.js';
import { DamagedVersionError, verifiedFiles } from '../registry/content.js';
import { findVersion, promote, rollback, type PromoteOutcome } from '../registry/lifecycle.js';
import { checkAlias, checkModelName, parseVersion, parseVersionRef } from '../registry/names.js';
import { openRegistry } from '../registry/open.js';
import type { GateReport } from '../registry/gates.js';
import type { HistoryEvent, ModelVersion } from '../registry/store.js';
import { userName } from '../tracking/tracked-run.js';
import type { FormatFlags } from './commands/models.js';
import { printJson, withSpinner } from './output.js';
import { markdownTable, textTable } from './table.js';
import { color } from './color.js';

// Runs and prints the `mlops models` commands.

const fixed = (v: number | undefined) => (v === undefined ? '' : v.toFixed(4));
const vText = (v: number | null) => (v === null ? '-' : `v${v}`);

function oneFormat(opts: FormatFlags): void {
  if (opts.json && opts.md) throw new UsageError('--json and --md are alternatives: give one');
}

function table(opts: FormatFlags, header: string[], rows: string[][]): void {
  process.stdout.write(opts.md ? markdownTable(header, rows) : textTable(header, rows));
}

const aliasText = (aliases: Record<string, number>) =>
  Object.entries(aliases)
    .map(([a, v]) => `${a}=v${v}`)
    .join(', ');

export async function registerCommand(name: string, opts: { path?: string; run?: string; alias?: string; description?: string; output?: string; json?: boolean }): Promise<void> {
  const project = await openProject();
  const { registerModel } = await import('../registry/register.js'); // the ML code: only this command scores a model
  const { version, created } = await withSpinner('registering: scoring the model on the test data', () =>
    registerModel(project, { name, path: opts.path, runId: opts.run, alias: opts.alias, description: opts.description, user: userName() }),
  );
  if (opts.output) await writeFileAtomic(opts.output, JSON.stringify({ name, version: version.version, created, content: version.content }, null, 2) + '\n');
  if (opts.json) return printJson({ created, ...version });
  if (!created) console.log(`already registered: this content is version ${version.version} of ${name}; nothing written`);
  else console.log(`registered ${name} version ${version.version}${opts.alias ? ` (alias ${opts.alias})` : ''} from ${version.source}`);
}

export async function listCommand(opts: FormatFlags): Promise<void> {
  oneFormat(opts);
  const models = await (await openRegistry(await openProject())).registry.listModels();
  if (opts.json) return printJson({ models });
  table(opts, ['name', 'latest', 'aliases', 'description'], models.map((m) => [m.name, vText(m.latest_version), aliasText(m.aliases), m.description ?? '']));
}

/** A version as shown: with whether its objects still match their md5. */
async function withIntegrity(version: ModelVersion): Promise<ModelVersion & { integrity: string }> {
  try {
    await verifiedFiles((await openRegistry(await openProject())).objects, version);
    return { ...version, integrity: 'ok' };
  } catch (error) {
    if (!(error instanceof DamagedVersionError)) throw error;
    return { ...version, integrity: `DAMAGED: ${error.detail}` };
  }
}

export async function showCommand(name: string, versionArg: string | undefined, opts: FormatFlags): Promise<void> {
  oneFormat(opts);
  const { registry } = (await openRegistry(await openProject()));
  const model = await registry.getModel(name);
  const picked = versionArg === undefined ? await registry.listVersions(name) : [await findVersion(registry, name, parseVersionRef(versionArg))];
  const versions = await Promise.all(picked.map(withIntegrity));
  if (opts.json) return printJson(versionArg === undefined ? { ...model, versions } : versions[0]);
  const header = ['version', 'aliases', 'accuracy', 'f1_macro', 'log_loss', 'run', 'git', 'integrity'];
  const rows = versions.map((v) => [
    `v${v.version}`, v.aliases.join(', '), fixed(v.metrics.accuracy), fixed(v.metrics.f1_macro), fixed(v.metrics.log_loss),
    v.run_id?.slice(0, 8) ?? '-', v.lineage.git_commit ? `${v.lineage.git_commit.slice(0, 7)}${v.lineage.git_dirty ? '+dirty' : ''}` : '-', v.integrity,
  ]);
  if (opts.md) process.stdout.write(`### Model ${name}\n\n`);
  else console.log(`${name}${model.description ? `: ${model.description}` : ''}`);
  table(opts, header, rows);
  if (versionArg !== undefined) {
    const v = versions[0]!;
    const data = (label: string, ref: { path: string; md5: string } | null) => (ref ? `${label}: ${ref.path} (md5 ${ref.md5})` : `${label}: -`);
    const lines = [
      `source: ${v.source}`, `registered: ${new Date(v.creation_timestamp).toISOString()} by ${v.user_id}`, `content: ${v.content}`,
      data('train data', v.lineage.train_data), data('test data', v.lineage.test_data), data('params', v.lineage.params), data('raw data', v.lineage.raw_data),
      ...(v.description ? [`description: ${v.description}`] : []),
    ];
    process.stdout.write(opts.md ? lines.map((l) => `- ${l}\n`).join('') : lines.map((l) => `  ${l}\n`).join(''));
  }
}

export async function historyCommand(name: string, opts: FormatFlags & { alias?: string }): Promise<void> {
  oneFormat(opts);
  if (opts.alias !== undefined) checkAlias(opts.alias);
  const events = (await (await openRegistry(await openProject())).registry.history(name)).filter((e) => opts.alias === undefined || e.alias === opts.alias);
  if (opts.json) return printJson({ events });
  const rows = events.map((e: HistoryEvent) => [e.time, e.action, e.alias, vText(e.from), vText(e.to), e.user, e.reason]);
  table(opts, ['time', 'action', 'alias', 'from', 'to', 'user', 'reason'], rows);
}

function printReport(report: GateReport, opts: FormatFlags, headline: string): void {
  const rows = report.checks.map((c) => [c.gate, fixed(c.value), fixed(c.limit), c.passed ? 'pass' : 'FAIL']);
  if (opts.md) {
    process.stdout.write(`### Promotion gates: ${report.model} v${report.candidate.version} -> ${report.alias}\n\n`);
    if (rows.length) process.stdout.write(markdownTable(['gate', 'value', 'limit', 'result'], rows));
    else process.stdout.write('No gates configured (params.yaml registry:).\n');
    process.stdout.write(`\n**${headline}**\n`);
    return;
  }
  if (rows.length) {
    // Only the last cell is coloured: it is never padded, so escape codes cannot skew the widths.
    const shown = rows.map((r) => [...r.slice(0, -1), r.at(-1) === 'pass' ? color.green('pass') : color.red('FAIL')]);
    process.stdout.write(textTable(['gate', 'value', 'limit', 'result'], shown));
  } else console.log('no gates configured (params.yaml registry:)');
  console.log(headline);
}

function headlineOf(name: string, alias: string, outcome: Exclude<PromoteOutcome, { kind: 'noop' }>): string {
  const failed = outcome.report?.checks.filter((c) => !c.passed).map((c) => c.gate) ?? [];
  const move = `${name} ${alias}: ${vText(outcome.from)} -> v${outcome.version}`;
  switch (outcome.kind) {
    case 'moved':
      return `promoted ${move}${outcome.report ? '' : ' (forced, gates skipped)'}`;
    case 'dry-run':
      return failed.length ? `dry run: would refuse ${move}; failed: ${failed.join('; ')}` : `dry run: would promote ${move}`;
    case 'refused':
      return `refused ${move}; ${alias} stays at ${vText(outcome.from)}; failed: ${failed.join('; ')}`;
  }
}

export async function promoteCommand(name: string, version: string, opts: FormatFlags & { alias: string; dryRun?: boolean; force?: boolean; reason?: string }): Promise<void> {
  oneFormat(opts);
  const project = await openProject();
  const outcome = await withSpinner('promote: scoring on the current test data', () =>
    promote(project, { name: checkModelName(name), ref: parseVersionRef(version), alias: opts.alias, dryRun: opts.dryRun, force: opts.force, reason: opts.reason, user: userName() }),
  );
  if (outcome.kind === 'noop') {
    const line = `${name} ${opts.alias} already points at v${outcome.version}; nothing to do`;
    if (opts.json) printJson({ outcome: 'noop', version: outcome.version, alias: opts.alias });
    else console.log(opts.md ? `**${line}**` : line);
    return;
  }
  const headline = headlineOf(name, opts.alias, outcome);
  if (opts.json) printJson({ outcome: outcome.kind, version: outcome.version, alias: opts.alias, from: outcome.from, report: outcome.report });
  else if (outcome.report) printReport(outcome.report, opts, headline);
  else console.log(headline);
  const failed = outcome.report && !outcome.report.passed;
  if (outcome.kind === 'refused' || (outcome.kind === 'dry-run' && failed)) throw new FailureError(headline);
}

export async function rollbackCommand(name: string, opts: { alias: string; json?: boolean }): Promise<void> {
  const { from, to } = await rollback(await openProject(), { name: checkModelName(name), alias: opts.alias, user: userName() });
  if (opts.json) return printJson({ alias: opts.alias, from, to });
  console.log(`rolled back ${name} ${opts.alias}: v${from} -> v${to}`);
}

export async function aliasCommand(name: string, args: string[], opts: { delete?: boolean }): Promise<void> {
  const { registry } = (await openRegistry(await openProject()));
  const change = { action: 'alias' as const, user: userName(), reason: 'set by hand (mlops models alias)' };
  if (opts.delete) {
    if (args.length !== 1) throw new UsageError('usage: mlops models alias NAME ALIAS --delete');
    await registry.deleteAlias(name, checkAlias(args[0]!), { ...change, action: 'delete', reason: 'removed by hand (mlops models alias --delete)' });
    return console.log(`removed alias ${args[0]} of ${name}`);
  }
  if (args.length !== 2) throw new UsageError('usage: mlops models alias NAME VERSION ALIAS');
  const [version, alias] = [parseVersion(args[0]!), checkAlias(args[1]!)];
  await registry.exclusive(async () => {
    if ((await registry.getModel(name)).aliases[alias] === version) return console.log(`${name} ${alias} already points at v${version}; nothing to do`);
    await registry.setAlias(name, alias, version, change);
    console.log(`${name} ${alias} -> v${version}`);
  });
}

export async function deleteCommand(name: string, versionArg: string | undefined, opts: { force?: boolean }): Promise<void> {
  const { registry } = (await openRegistry(await openProject()));
  await registry.exclusive(async () => {
    const aliases = Object.entries((await registry.getModel(name)).aliases);
    const version = versionArg === undefined ? undefined : parseVersion(versionArg);
    if (version !== undefined) await registry.getVersion(name, version);
    const held = aliases.filter(([, v]) => version === undefined || v === version).map(([a, v]) => `${a} (v${v})`);
    if (held.length && !opts.force) throw new ConflictError(`refused: ${held.join(', ')} still point${held.length === 1 ? 's' : ''} at it; move the alias first or use --force`);
    if (version === undefined) {
      await registry.deleteModel(name);
      return console.log(`deleted model ${name}`);
    }
    await registry.deleteVersion(name, version, { action: 'delete', user: userName(), reason: `version ${version} deleted` });
    console.log(`deleted ${name} v${version}${held.length ? `; removed ${held.join(', ')}` : ''}`);
  });
}

export async function describeCommand(name: string, args: string[]): Promise<void> {
  if (args.length < 1 || args.length > 2) throw new UsageError('usage: mlops models describe NAME [VERSION] TEXT');
  const version = args.length === 2 ? parseVersion(args[0]!) : null;
  await (await openRegistry(await openProject())).registry.setDescription(name, version, args.at(-1)!);
  console.log(`described ${name}${version === null ? '' : ` v${version}`}`);
}
