import type { Command } from 'commander';
import { NotFoundError, UsageError } from '../../core/errors.js';
import type { ConfigLevel } from '../../project/config.js';

// `mlops init` and `mlops config`, as `dvc init` and `dvc config`.
export function register(program: Command): void {
  program
    .command('init')
    .description('make the current folder an mlops project: .mlops/ with a shared config and its .gitignore')
    .action(async () => {
      const [{ initProject }, { displayPath }] = await Promise.all([import('../../project/init.js'), import('../../core/display.js')]);
      const { created, already } = await initProject(process.cwd());
      for (const path of created) process.stdout.write(`created ${displayPath(path)}\n`);
      if (already) process.stdout.write(`already an mlops project: .mlops/ exists${created.length ? '; added what was missing' : ''}\n`);
      else process.stdout.write('initialized an mlops project: commit .mlops/config and .mlops/.gitignore\n');
    });

  program
    .command('config')
    .description('get, set or unset a setting of .mlops/config (section.key, e.g. cache.dir, tracking.uri)')
    .argument('[key]', 'section.key')
    .argument('[value]', 'the new value (without it, the current value is printed)')
    .option('--local', 'use .mlops/config.local (git-ignored: machine-specific settings, secrets)')
    .option('-u, --unset', 'remove the key')
    .option('-l, --list', 'list every setting as key=value')
    .action(async (key: string | undefined, value: string | undefined, opts: { local?: boolean; unset?: boolean; list?: boolean }) => {
      const [{ projectRoot }, config] = await Promise.all([import('../../core/root.js'), import('../../project/config.js')]);
      const root = projectRoot();
      const levels: ConfigLevel[] = opts.local ? ['local'] : ['repo', 'local'];
      if (opts.list) {
        if (key !== undefined || opts.unset) throw new UsageError('--list takes no key and no --unset');
        for (const v of config.ProjectConfig.read(root, levels).list()) process.stdout.write(`${v.key}=${v.value}\n`);
        return;
      }
      if (key === undefined) throw new UsageError('give a key (section.key), or --list');
      if (opts.unset) {
        if (value !== undefined) throw new UsageError('--unset takes a key and no value');
        return config.setConfig(root, opts.local ? 'local' : 'repo', key, undefined);
      }
      if (value !== undefined) return config.setConfig(root, opts.local ? 'local' : 'repo', key, value);
      config.parseKey(key);
      const found = config.ProjectConfig.read(root, levels).get(key);
      if (!found) throw new NotFoundError(`'${key}' is not set`);
      process.stdout.write(`${found.value}\n`);
    });
}
