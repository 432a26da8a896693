import type { Command } from 'commander';
import { register as drift } from './drift.js';
import { register as exp } from './exp.js';
import { register as log } from './log.js';
import { register as metrics } from './metrics.js';
import { register as ml } from './ml.js';
import { register as models } from './models.js';
import { register as monitor } from './monitor.js';
import { register as pipeline } from './pipeline.js';
import { register as plots } from './plots.js';
import { register as predictions } from './predictions.js';
import { register as project } from './project.js';
import { register as queue } from './queue.js';
import { register as remote } from './remote.js';
import { register as repro } from './repro.js';
import { register as runs } from './runs.js';
import { register as serve } from './serve.js';
import { register as tracking } from './tracking.js';
import { register as ui } from './ui.js';

// Each command group registers itself from its own file; action handlers import their domain modules
// lazily so `mlops --help` loads none of the heavy libraries.
const groups: ((program: Command) => void)[] = [project, pipeline, repro, exp, queue, ml, models, drift, metrics, plots, runs, tracking, log, serve, predictions, monitor, remote, ui];

export function registerCommands(program: Command): void {
  for (const register of groups) register(program);
}
