import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { MlopsError, type ErrorKind } from '../core/errors.js';
import { registerCommands } from './commands/index.js';

/** Parses arguments, runs one command, and maps every error to one line and an exit code. */
export async function main(argv: string[]): Promise<void> {
  // The AWS SDK warns on every S3 command that its releases after January 2027 will need Node 22; this
  // package supports Node 20 with the SDK its lock file pins, so the warning only adds noise to every
  // push, pull and S3 artifact. A user who sets the variable keeps their choice.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
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
  // A full disk, a read-only or immutable file, a permission: the environment's problem, not a bug.
  const system = systemError(error) ?? (isSystemError(error) ? error.message : undefined);
  if (system) {
    process.stderr.write(`error: ${system}\n`);
    return EXIT_CODE.failed;
  }
  process.stderr.write(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT_CODE.failed;
}

/** An error from a system call (node names the call and the path in its message). */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

// What the machine refused, wherever it happens (a full disk while recording a run, a read-only folder):
// the user's to fix, so one line naming the file rather than a stack trace.
const SYSTEM_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
};

function systemError(error: unknown): string | undefined {
  const { code, path, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  const what = code ? SYSTEM_ERRORS[code] : undefined;
  if (!what) return undefined;
  return `${path ? `${path}: ` : ''}${what}${syscall ? ` (${syscall})` : ''}`;
}
