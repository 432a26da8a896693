import { interactive } from './output.js';

/** The styles the CLI uses; each returns its text unchanged when output is not a terminal. */
export interface Colors {
  readonly bold: Paint;
  readonly dim: Paint;
  readonly red: Paint;
  readonly green: Paint;
  readonly yellow: Paint;
  readonly cyan: Paint;
}

type Paint = (text: string) => string;

const same: Paint = (text) => text;
const plain: Colors = { bold: same, dim: same, red: same, green: same, yellow: same, cyan: same };

// chalk takes ~15 ms to import (a fifth of a no-op repro): loaded only when output is really coloured.
export const color: Colors = interactive ? new (await import('chalk')).Chalk({ level: 1 }) : plain;
