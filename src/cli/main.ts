import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { MlopsError, type ErrorKind } from '../core/errors.js';
import { registerCommands } from './commands/index.js';

/** Parses arguments, runs one command, and maps every error to one line and an exit code. */
export async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`mlops predict ... | head`) closes the pipe: that ends the output, not in error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
  const program = new Command('mlops')
    .description('Reproducible ML pipelines, experiment tracking, grid-search training and drift detection')
    .version(version())
    .exitOverride()
    .showSuggestionAfterError();
  registerCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
  }
}

/**
 * The one place error kinds become exit codes: 0 ok, 1 a stage or gate failed, 2 usage or
 * configuration (bad input, a named thing missing or in the way), 130 interrupted.
 */
export const EXIT_CODE: Readonly<Record<ErrorKind, number>> = {
  invalid: 2,
  'not-found': 2,
  conflict: 2,
  failed: 1,
  interrupted: 130,
};

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_CODE.invalid; // commander printed it
  if (error instanceof MlopsError) {
    process.stderr.write(`error: ${error.message}\n`);
    return EXIT_CODE[error.kind];
  }
  process.stderr.write(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT_CODE.failed;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
