import { relative } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { loadParamsSection } from '../params/params.js';
import { configFromFlags, configFromParams, type DriftConfig, type DriftFlags } from './config.js';
import { detectDrift, type DriftReport } from './detect.js';
import { readTable } from './read.js';
import { logDrift } from './track.js';
import type { TrackedRun } from '../tracking/run.js';

export interface DriftRun {
  config: DriftConfig;
  report: DriftReport;
}

/**
 * One drift check: from the flags when --reference/--current are given, else from params.yaml's
 * `drift:` section of the project at `root` (the pipeline stage). Writes the JSON report when one is configured.
 */
export async function runDrift(root: string, flags: DriftFlags, run?: TrackedRun): Promise<DriftRun> {
  const stage = isStageMode(flags);
  const config = stage ? configFromParams(loadParamsSection(root, 'drift'), root, flags) : configFromFlags(flags);
  const show = (path: string) => (stage ? relative(root, path) || path : path);
  const [reference, current] = await Promise.all([readTable(config.reference, show(config.reference)), readTable(config.current, show(config.current))]);
  const report = detectDrift(reference, current, config);
  if (config.report) await writeFileAtomic(config.report, `${JSON.stringify(report, null, 2)}\n`);
  if (run) {
    await logDrift(run, report);
    if (config.report) await run.logArtifact(config.report);
  }
  return { config, report };
}

/** No --reference/--current: the pipeline stage, configured by params.yaml (and tracked). */
export function isStageMode(flags: DriftFlags): boolean {
  return flags.reference === undefined && flags.current === undefined;
}
