import type { Command } from 'commander';

// `mlops models ...`: the model registry. Parsing only; models-view.ts runs and prints each command,
// loaded inside the action so `mlops --help` stays fast.

export interface FormatFlags {
  json?: boolean;
  md?: boolean;
}

const view = () => import('../models-view.js');

export function register(program: Command): void {
  const models = program.command('models').description('the model registry: versions with lineage, aliases moved behind gates, history, rollback');

  models
    .command('register')
    .description('record a new version of NAME: its model and transform copied into the cache, with lineage and test metrics')
    .argument('<name>')
    .option('--path <file>', 'model JSON written by train (its transform.json beside it); default models/model.json')
    .option('--run <run-id>', 'the model a tracked train run logged, instead of --path')
    .option('--alias <alias>', 'point this alias at the new version (no gates: use promote for that)')
    .option('--description <text>', "the version's description")
    .option('--output <file>', 'also write {name, version, created} as JSON here (for a pipeline stage)')
    .option('--json', 'print the version as JSON')
    .action(async (name: string, opts: { path?: string; run?: string; alias?: string; description?: string; output?: string; json?: boolean }) =>
      (await view()).registerCommand(name, opts),
    );

  models
    .command('list')
    .description('registered models: latest version and aliases')
    .option('--json', 'JSON: {models: [{name, latest_version, aliases}]}')
    .option('--md', 'a markdown table')
    .action(async (opts: FormatFlags) => (await view()).listCommand(opts));

  models
    .command('show')
    .description("a model's versions (or one version) with metrics, lineage and integrity")
    .argument('<name>')
    .argument('[version]', 'a number, latest, or an alias')
    .option('--json', 'JSON: {name, aliases, versions: [{version, run_id, status, metrics, lineage}]}')
    .option('--md', 'markdown')
    .action(async (name: string, version: string | undefined, opts: FormatFlags) => (await view()).showCommand(name, version, opts));

  models
    .command('history')
    .description('every alias move: when, who, from -> to, and why (the gate report or the --force reason)')
    .argument('<name>')
    .option('--alias <alias>', 'only this alias')
    .option('--json', 'JSON: {events: [{time, alias, from, to, reason}]}')
    .option('--md', 'a markdown table')
    .action(async (name: string, opts: FormatFlags & { alias?: string }) => (await view()).historyCommand(name, opts));

  models
    .command('promote')
    .description('move ALIAS to VERSION when the gates (params.yaml registry:) pass; exit 1 with the report when one fails')
    .argument('<name>')
    .argument('<version>', 'a number, latest, or an alias')
    .option('--alias <alias>', 'the alias to move', 'champion')
    .option('--dry-run', 'print the gate report, move nothing (exit 1 if a gate fails)')
    .option('--force', 'move without the gates (needs --reason, recorded in the history)')
    .option('--reason <text>', 'why --force')
    .option('--json', 'print the outcome and gate report as JSON')
    .option('--md', 'print the gate report as markdown (CI job summaries)')
    .action(async (name: string, version: string, opts: FormatFlags & { alias: string; dryRun?: boolean; force?: boolean; reason?: string }) =>
      (await view()).promoteCommand(name, version, opts),
    );

  models
    .command('rollback')
    .description('move ALIAS back to the version that held it before (a second rollback goes further back)')
    .argument('<name>')
    .option('--alias <alias>', 'the alias to move back', 'champion')
    .option('--json', 'print {from, to} as JSON')
    .action(async (name: string, opts: { alias: string; json?: boolean }) => (await view()).rollbackCommand(name, opts));

  models
    .command('alias')
    .description('point ALIAS at VERSION without gates (NAME VERSION ALIAS), or remove it (NAME ALIAS --delete)')
    .argument('<name>')
    .argument('<args...>', 'VERSION ALIAS, or ALIAS with --delete')
    .option('--delete', 'remove the alias')
    .action(async (name: string, args: string[], opts: { delete?: boolean }) => (await view()).aliasCommand(name, args, opts));

  models
    .command('delete')
    .description('delete a version (its number is never reused) or the whole model; refused while an alias points at it')
    .argument('<name>')
    .argument('[version]')
    .option('--force', 'delete even when aliased (the aliases go too, recorded in the history)')
    .action(async (name: string, version: string | undefined, opts: { force?: boolean }) => (await view()).deleteCommand(name, version, opts));

  models
    .command('describe')
    .description("set the description of a model (NAME TEXT) or of a version (NAME VERSION TEXT)")
    .argument('<name>')
    .argument('<args...>', '[VERSION] TEXT')
    .action(async (name: string, args: string[]) => (await view()).describeCommand(name, args));
}
