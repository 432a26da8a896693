/** The project root: stages see it as MLOPS_ROOT; otherwise the working directory. */
export function projectRoot(): string {
  return process.env.MLOPS_ROOT || process.cwd();
}
