import { fileURLToPath } from 'node:url';

/** The folder holding the `mlops` launcher of this very build (dist/src/cli -> the package root's bin/). */
export const launcherDir = (): string => fileURLToPath(new URL('../../../bin', import.meta.url));
