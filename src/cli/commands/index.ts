import type { Command } from 'commander';
import { register as drift } from './drift.js';

// Each command group registers itself from its own file; action handlers import their domain modules
// lazily so `mlops --help` loads none of the heavy libraries.
const groups: ((program: Command) => void)[] = [drift];

export function registerCommands(program: Command): void {
  for (const register of groups) register(program);
}
