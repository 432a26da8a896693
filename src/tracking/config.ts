import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PARAMS_FILE } from '../params/params.js';
import { readYamlFile } from '../core/yaml.js';

export const DEFAULT_EXPERIMENT_NAME = 'Default';
export const DEFAULT_EXPERIMENT_ID = '0';

export interface TrackingConfig {
  /** Absolute path of the mlruns folder. */
  dir: string;
  /** The experiment runs are recorded in. */
  experiment: string;
}

/**
 * Where runs go: `MLOPS_TRACKING_DIR`, else params.yaml `tracking.dir` (relative to the project root),
 * else `<root>/mlruns`; the experiment is params.yaml `tracking.experiment`, else `Default`.
 */
export function trackingConfig(root: string): TrackingConfig {
  const section = readTrackingSection(root);
  const fromEnv = process.env.MLOPS_TRACKING_DIR;
  const configured = fromEnv || section.dir;
  return {
    dir: configured ? toPath(root, configured) : join(root, 'mlruns'),
    experiment: section.experiment ?? DEFAULT_EXPERIMENT_NAME,
  };
}

// Accepts a plain path or a `file:` URI, the two ways MLflow users write a local tracking location.
function toPath(root: string, location: string): string {
  if (location.startsWith('file:')) return fileURLToPath(location);
  return isAbsolute(location) ? location : resolve(root, location);
}

function readTrackingSection(root: string): { dir?: string; experiment?: string } {
  const file = join(root, DEFAULT_PARAMS_FILE);
  if (!existsSync(file)) return {};
  const source = readYamlFile(file);
  const top = source.value as Record<string, unknown> | null;
  const tracking = top && typeof top === 'object' ? top.tracking : undefined;
  if (tracking === undefined || tracking === null) return {};
  if (typeof tracking !== 'object' || Array.isArray(tracking)) throw source.error(['tracking'], 'expected a mapping');
  const out: { dir?: string; experiment?: string } = {};
  for (const key of ['dir', 'experiment'] as const) {
    const value = (tracking as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') throw source.error(['tracking', key], 'expected a non-empty string');
    out[key] = value;
  }
  return out;
}
