/** Colour and spinners only for a person at a terminal; CI and pipes get plain, stable lines. */
export const interactive = Boolean(process.stdout.isTTY) && !process.env.CI;

/** Runs `task` under a spinner on a terminal; elsewhere prints nothing extra. */
export async function withSpinner<T>(text: string, task: (update: (text: string) => void) => Promise<T>): Promise<T> {
  // A terminal that reports no width (some `script` sessions) makes ora redraw forever: no spinner there.
  if (!interactive || !process.stdout.columns) return task(() => {});
  const { default: ora } = await import('ora');
  // discardStdin would put the terminal in raw mode, where Ctrl-C is a byte, not SIGINT.
  const spinner = ora({ text, discardStdin: false }).start();
  try {
    const result = await task((t) => (spinner.text = t));
    spinner.stop();
    return result;
  } catch (error) {
    spinner.stop();
    throw error;
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
