import type { Command } from 'commander';
import { FailureError, UsageError } from '../../core/errors.js';
import type { TransferOptions, TransferReport } from '../../remote/sync.js';
import { fileOption, jsonOption } from '../options.js';
import { openProject, quietAwsSdk } from '../project.js';
import { jobs, printJsonLazy } from './repro.js';

// `mlops remote ...` (as `dvc remote`), and push, pull and fetch (as DVC's): parsing and printing only,
// the work is in src/remote/.

interface TransferCli {
  remote?: string;
  jobs?: number;
  runCache?: boolean;
  file?: string;
  json?: boolean;
  force?: boolean;
}

const transferCommand = (command: Command) =>
  command
    .argument('[targets...]', 'stages or pipeline files whose outputs to transfer (default: every output, and registered models)')
    .option('-r, --remote <name>', 'the remote (default: core.remote)')
    .option('-j, --jobs <n>', 'transfers at once (default: the remote\'s jobs, else 4 per core)', jobs)
    .option('--run-cache', 'also the run-cache entries and the outputs they record')
    .addOption(fileOption())
    .addOption(jsonOption('print a JSON report'));

async function transfer(verb: 'push' | 'fetch' | 'pull', targets: string[], opts: TransferCli): Promise<void> {
  quietAwsSdk();
  const [sync, { transferBar, formatBytes }] = await Promise.all([import('../../remote/sync.js'), import('../transfer-progress.js')]);
  const project = await openProject();
  const bar = transferBar(verb === 'push' ? 'pushing' : 'fetching');
  const options: TransferOptions & { force?: boolean } = {
    targets,
    remote: opts.remote,
    jobs: opts.jobs,
    runCache: opts.runCache,
    file: opts.file,
    force: opts.force,
    onProgress: bar.update,
  };
  let result: TransferReport & { checkout?: { restored: string[]; failed: { path: string; message: string }[] } };
  // Ctrl-C ends the process from its handler: the bar is wiped there too, so the shell's prompt starts clean.
  const { onInterrupt } = await import('../../core/interrupt.js');
  const stopWatching = onInterrupt(async () => bar.clear());
  try {
    result = await (verb === 'push' ? sync.push(project, options) : verb === 'fetch' ? sync.fetch(project, options) : sync.pull(project, options));
  } finally {
    stopWatching();
    bar.clear();
  }
  if (opts.json) await printJsonLazy(result);
  else {
    for (const f of result.failed) process.stderr.write(`error: ${f.object}: ${f.message}\n`);
    for (const f of result.checkout?.failed ?? []) process.stderr.write(`error: ${f.path}: ${f.message}\n`);
    const moved = verb === 'push' ? 'pushed to' : 'fetched from';
    const restored = result.checkout ? `, ${result.checkout.restored.length} output(s) restored` : '';
    const failed = result.failed.length ? `, ${result.failed.length} failed` : '';
    process.stdout.write(
      `${result.transferred} object(s) ${moved} '${result.remote}' (${formatBytes(result.bytes)}), ${result.upToDate} up to date${failed}${restored}\n`,
    );
  }
  if (result.failed.length || result.checkout?.failed.length) {
    process.exitCode = 1;
    if (!opts.json) throw new FailureError(`${verb}: ${result.failed.length + (result.checkout?.failed.length ?? 0)} object(s) or output(s) failed`);
  }
}

export function register(program: Command): void {
  const remote = program.command('remote').description('configure remotes (S3, S3-compatible, a shared folder) as `dvc remote`');
  remote
    .command('add')
    .description('add a remote: s3://bucket/prefix, or a local or mounted folder')
    .argument('<name>')
    .argument('<url>')
    .option('-d, --default', 'make it the default remote (core.remote)')
    .option('-f, --force', 'overwrite a remote of that name')
    .option('--local', 'write to the git-ignored local config')
    .action(async (name: string, url: string, opts: { default?: boolean; force?: boolean; local?: boolean }) => {
      const { addRemote } = await import('../../remote/config.js');
      await addRemote(await openProject(), name, url, { makeDefault: opts.default, force: opts.force, local: opts.local });
    });
  remote
    .command('list')
    .description('list the remotes: name and url')
    .addOption(jsonOption())
    .action(async (opts: { json?: boolean }) => {
      const { readRemotes } = await import('../../remote/config.js');
      const { remotes, default: fallback } = readRemotes(await openProject());
      const rows = [...remotes.values()].map((r) => ({ name: r.name, url: r.values.get('url')?.value ?? '', default: r.name === fallback?.value }));
      if (opts.json) return printJsonLazy(rows);
      for (const r of rows) process.stdout.write(`${r.name}\t${r.url}${r.default ? '\t(default)' : ''}\n`);
    });
  remote
    .command('remove')
    .description('remove a remote (and unset it as the default)')
    .argument('<name>')
    .action(async (name: string) => {
      const { removeRemote } = await import('../../remote/config.js');
      await removeRemote(await openProject(), name);
    });
  remote
    .command('modify')
    .description('set a remote key (url, endpointurl, region, profile, access_key_id, secret_access_key, session_token, use_ssl, ssl_verify, jobs)')
    .argument('<name>')
    .argument('<key>')
    .argument('[value]')
    .option('-u, --unset', 'remove the key')
    .option('--local', 'write to the git-ignored local config (credentials always go there)')
    .action(async (name: string, key: string, value: string | undefined, opts: { unset?: boolean; local?: boolean }) => {
      if (opts.unset ? value !== undefined : value === undefined) throw new UsageError(opts.unset ? '--unset takes no value' : `give a value for '${key}' (or --unset)`);
      const [{ modifyRemote }, { displayPath }] = await Promise.all([import('../../remote/config.js'), import('../../core/display.js')]);
      const file = await modifyRemote(await openProject(), name, key, value, { local: opts.local });
      if (!opts.unset && !opts.local && /(^|_)(key|token)/.test(key)) process.stderr.write(`${key} written to ${displayPath(file)} (git-ignored)\n`);
    });
  remote
    .command('default')
    .description('print, set or unset the default remote (core.remote)')
    .argument('[name]')
    .option('-u, --unset', 'unset the default')
    .option('--local', 'write to the git-ignored local config')
    .action(async (name: string | undefined, opts: { unset?: boolean; local?: boolean }) => {
      const config = await import('../../remote/config.js');
      const project = await openProject();
      if (opts.unset || name !== undefined) {
        if (opts.unset && name !== undefined) throw new UsageError('--unset takes no name');
        return config.setDefaultRemote(project, opts.unset ? undefined : name, { local: opts.local });
      }
      const fallback = config.readRemotes(project).default;
      if (!fallback) throw new UsageError('no default remote is set');
      process.stdout.write(`${fallback.value}\n`);
    });

  transferCommand(program.command('push').description('upload the outputs the lock files record (and registered models) to a remote')).action(
    (targets: string[], opts: TransferCli) => transfer('push', targets, opts),
  );
  transferCommand(program.command('fetch').description('download the outputs the lock files record into the cache, without touching the workspace')).action(
    (targets: string[], opts: TransferCli) => transfer('fetch', targets, opts),
  );
  transferCommand(program.command('pull').description('fetch, then restore the outputs in the workspace'))
    .option('-f, --force', 'overwrite outputs modified in the workspace')
    .action((targets: string[], opts: TransferCli) => transfer('pull', targets, opts));
}

/** `mlops status -c`: DVC's words per output (new, deleted, missing), or that both sides agree. */
export async function cloudStatus(targets: string[], opts: { file?: string; quiet?: boolean; json?: boolean; remote?: string; jobs?: number; allFiles?: boolean }): Promise<void> {
  quietAwsSdk();
  const { cloudStatus: status } = await import('../../remote/sync.js');
  const project = await openProject();
  const result = await status(project, { targets, remote: opts.remote, jobs: opts.jobs, file: opts.file, allFiles: opts.allFiles });
  const changed = result.outputs.filter((o) => o.status !== 'ok');
  if (opts.quiet) {
    if (changed.length) process.exitCode = 1;
    return;
  }
  // As `dvc status -c --json`: each output that differs, with its state.
  if (opts.json) return printJsonLazy(Object.fromEntries(changed.map((o) => [o.path, o.status])));
  for (const o of changed) process.stdout.write(`\t${`${o.status}:`.padEnd(12)}${o.path}\n`);
  if (!changed.length) process.stdout.write(`Cache and remote '${result.remote}' are in sync.\n`);
}
