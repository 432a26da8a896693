import { Chalk } from 'chalk';
import { interactive } from './output.js';

/** Colour for a person at a terminal only; CI logs and pipes get plain text. */
export const color = new Chalk({ level: interactive ? 1 : 0 });
