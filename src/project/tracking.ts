import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readYamlFile, type YamlSource } from '../core/yaml.js';
import { MlopsError } from '../core/errors.js';
import { DEFAULT_PARAMS_FILE } from '../params/params.js';
import { DEFAULT_EXPERIMENT_NAME } from '../tracking/config.js';
import type { TrackingStore } from '../tracking/store.js';
import { valueError, type ConfigValue, type ProjectConfig } from './config.js';
import { withoutPassword } from '../sql/uri.js';
import { parseStoreUri, type StoreRegistry } from './stores.js';
import { parseRemoteUrl } from '../remote/config.js';

/** What the command line's environment says about tracking; read by the CLI, never by domain code. */
export interface TrackingEnv {
  /** MLOPS_TRACKING_URI, else MLFLOW_TRACKING_URI (else the older MLOPS_TRACKING_DIR). */
  readonly uri?: string;
  /** MLFLOW_EXPERIMENT_NAME. */
  readonly experiment?: string;
}

/** Where a project's runs are recorded, and the store opened there. */
export interface Tracking {
  readonly uri: string;
  /** The location as messages show it: a folder relative to the project root, else the URI. */
  readonly shown: string;
  readonly experiment: string;
  readonly store: TrackingStore;
}

/** Where tracking goes before any store is opened, and the old params.yaml section if it was used. */
export interface TrackingLocation {
  readonly uri: string;
  readonly experiment: string;
  readonly configured?: ConfigValue;
  /** Set when the moved params.yaml `tracking:` section supplied a setting. */
  readonly oldSource?: YamlSource;
}

/**
 * The tracking location: the environment (MLOPS_TRACKING_URI, then MLFLOW_TRACKING_URI), then
 * `tracking.uri` in .mlops/config, then the params.yaml `tracking:` section of earlier releases, then
 * `<root>/mlruns`. The experiment: MLFLOW_EXPERIMENT_NAME, then `tracking.experiment`, then the old
 * params.yaml key, then `Default`.
 */
export function trackingLocation(root: string, config: ProjectConfig, env: TrackingEnv): TrackingLocation {
  const configured = config.get('tracking.uri');
  const configuredExperiment = config.get('tracking.experiment');
  const wantUri = !env.uri && !configured;
  const wantExperiment = !env.experiment && !configuredExperiment;
  const old = wantUri || wantExperiment ? oldTrackingSection(root) : {};
  const usedOld = (wantUri && old.dir) || (wantExperiment && old.experiment);
  return {
    uri: env.uri || configured?.value || old.dir || join(root, 'mlruns'),
    experiment: env.experiment || configuredExperiment?.value || old.experiment || DEFAULT_EXPERIMENT_NAME,
    configured: env.uri ? undefined : configured,
    oldSource: usedOld ? old.source : undefined,
  };
}

/** Opens the store at the tracking location (with a notice when the old params.yaml section chose it). */
export async function openTracking(
  root: string,
  config: ProjectConfig,
  location: TrackingLocation,
  stores: StoreRegistry<TrackingStore>,
  notice: (line: string) => void,
): Promise<Tracking> {
  const { uri, experiment, configured, oldSource } = location;
  if (oldSource) {
    notice(`notice: ${oldSource.file}: the 'tracking:' section moved to .mlops/config (mlops config tracking.uri / tracking.experiment); it is still read for this release`);
  }
  try {
    const artifactRoot = artifactRootSetting(root, config);
    const store = await stores.open(uri, root, { artifactRoot, notice });
    const { scheme, path } = parseStoreUri(uri, root);
    return { uri, shown: scheme === 'file' ? relative(root, path) || path : withoutPassword(uri), experiment, store };
  } catch (error) {
    // A bad URI in the config file is named at its line; one from the environment as it is.
    if (error instanceof MlopsError && configured) throw valueError(configured, error.message);
    throw error;
  }
}

/**
 * `tracking.artifact_root`, if set: an absolute folder (relative values from the project root), or
 * an S3 location as `s3://bucket/prefix` (no trailing slash).
 */
export function artifactRootSetting(root: string, config: ProjectConfig): string | undefined {
  const setting = config.get('tracking.artifact_root');
  if (!setting) return undefined;
  const value = setting.value;
  if (/^s3:/i.test(value)) {
    const s3 = s3ArtifactRoot(value);
    if (!s3.startsWith('s3://')) throw valueError(setting, s3);
    return s3;
  }
  if (value.startsWith('file:')) {
    try {
      return fileURLToPath(value);
    } catch (error) {
      throw valueError(setting, (error as Error).message);
    }
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(value)) throw valueError(setting, `'${value}': expected a folder, file: URI or s3://bucket/prefix`);
  return isAbsolute(value) ? value : resolve(root, value);
}

/** An `s3://bucket/prefix` artifact root checked and written without a trailing slash, or why it is not one (a message, never starting with s3://). */
export function s3ArtifactRoot(value: string): string {
  const url = parseRemoteUrl(value, '/');
  if (typeof url === 'string') return url;
  if (url.scheme !== 's3') return `'${value}': expected s3://bucket/prefix`;
  return `s3://${url.bucket}/${url.prefix}`.replace(/\/$/, '');
}

/** params.yaml's `tracking: {dir, experiment}`, where earlier releases kept these settings. */
function oldTrackingSection(root: string): { source?: YamlSource; dir?: string; experiment?: string } {
  const file = join(root, DEFAULT_PARAMS_FILE);
  if (!existsSync(file)) return {};
  const source = readYamlFile(file);
  const top = source.value as Record<string, unknown> | null;
  const tracking = top && typeof top === 'object' ? top.tracking : undefined;
  if (tracking === undefined || tracking === null) return {};
  if (typeof tracking !== 'object' || Array.isArray(tracking)) throw source.error(['tracking'], 'expected a mapping');
  const out: { source: YamlSource; dir?: string; experiment?: string } = { source };
  for (const key of ['dir', 'experiment'] as const) {
    const value = (tracking as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') throw source.error(['tracking', key], 'expected a non-empty string');
    out[key] = value;
  }
  return out;
}
