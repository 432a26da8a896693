import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { readYamlFile } from '../core/yaml.js';
import { SectionReader } from '../ml/config.js';
import { GATE_METRICS, gateResults, metricsOf, readThresholds, scoreOnTest, type Gate, type GateMetric } from '../ml/evaluate.js';
import { readModelFile } from '../ml/model-file.js';
import { PATHS } from '../ml/paths.js';
import { DEFAULT_PARAMS_FILE, loadParamsSection } from '../params/params.js';
import type { LocalObjectStore } from '../cache/odb.js';
import { MODEL_FILE, verifiedFiles } from './content.js';
import type { ModelVersion } from './store.js';

// Promotion gates, from params.yaml's `registry:` section:
//   gates:      absolute thresholds on evaluate's metrics (`accuracy: {min: 0.5}`, `log_loss: {max: 1.05}`)
//   challenger: {metric, tolerance}: the candidate may be worse than the alias' current holder by at
//               most `tolerance` on `metric`
// Both the candidate and the holder are scored afresh on the current test data, so they are compared on
// the same rows, whatever data each was registered with.

export interface RegistryGates {
  readonly gates: Gate[];
  readonly challenger?: { readonly metric: GateMetric; readonly tolerance: number };
}

const LOWER_IS_BETTER: readonly GateMetric[] = ['log_loss', 'brier', 'rmse', 'mae'];

export function readRegistryGates(root: string): RegistryGates {
  const file = join(root, DEFAULT_PARAMS_FILE);
  if (!existsSync(file)) return { gates: [] };
  const top = readYamlFile(file).value as Record<string, unknown> | null;
  if (!top || typeof top !== 'object' || top.registry === undefined) return { gates: [] };
  const reader = new SectionReader(loadParamsSection(root, 'registry'));
  reader.checkKeys([], reader.section.value, ['gates', 'challenger']);
  const gates = readThresholds(reader, ['gates']);
  if (reader.get(['challenger']) === undefined) return { gates };
  reader.checkKeys(['challenger'], reader.mapping(['challenger']), ['metric', 'tolerance']);
  const metric = reader.choice<GateMetric>(['challenger', 'metric'], GATE_METRICS);
  const tolerance = reader.number(['challenger', 'tolerance'], (n) => n >= 0, 'a number >= 0', 0);
  return { gates, challenger: { metric, tolerance } };
}

/** One line of the gate report. */
export interface GateCheck {
  readonly gate: string;
  readonly metric: GateMetric;
  readonly value: number;
  /** The bound the value is held to (a threshold, or the champion's value less the tolerance). */
  readonly limit: number;
  readonly passed: boolean;
}

export interface GateReport {
  readonly model: string;
  readonly alias: string;
  readonly candidate: { version: number; metrics: Record<GateMetric, number> };
  readonly champion: { version: number; metrics: Record<GateMetric, number> } | null;
  readonly test_data: string;
  readonly checks: GateCheck[];
  readonly passed: boolean;
}

/** Scores a version on the current test data; a damaged version throws DamagedVersionError first. */
async function scoreVersion(root: string, objects: LocalObjectStore, version: ModelVersion): Promise<Record<GateMetric, number>> {
  const files = await verifiedFiles(objects, version);
  const { metrics } = scoreOnTest(await readModelFile(files[MODEL_FILE]!), join(root, PATHS.test));
  return Object.fromEntries(metricsOf(metrics).map((m) => [m, metrics[m]!])) as Record<GateMetric, number>;
}

export async function gateReport(
  root: string, objects: LocalObjectStore, config: RegistryGates, candidate: ModelVersion, alias: string, champion: ModelVersion | undefined,
): Promise<GateReport> {
  const metrics = await scoreVersion(root, objects, candidate);
  for (const metric of [...config.gates.map((g) => g.metric), ...(config.challenger ? [config.challenger.metric] : [])]) {
    if (metrics[metric] === undefined) throw new ConfigError(`registry gates: ${metric} is not a metric of this model (its metrics: ${Object.keys(metrics).join(', ')})`, { file: DEFAULT_PARAMS_FILE, key: `registry.${metric}` });
  }
  const checks: GateCheck[] = gateResults(config.gates, metrics).map((g) => ({
    gate: `${g.metric} ${g.bound === 'min' ? '>=' : '<='} ${g.threshold}`, metric: g.metric, value: g.value, limit: g.threshold, passed: g.passed,
  }));
  let championScored: GateReport['champion'] = null;
  if (config.challenger && champion && champion.version !== candidate.version) {
    const { metric, tolerance } = config.challenger;
    let theirs: Record<GateMetric, number>;
    try {
      theirs = await scoreVersion(root, objects, champion);
    } catch (error) {
      // The champion was trained on other features (the data's columns changed): no like-for-like
      // comparison exists, so the absolute gates alone decide; the report says so.
      if (!(error instanceof ConfigError)) throw error;
      checks.push({ gate: `${metric} vs ${alias} v${champion.version}: not comparable (${error.detail})`, metric, value: metrics[metric], limit: NaN, passed: true });
      return report();
    }
    championScored = { version: champion.version, metrics: theirs };
    const lower = LOWER_IS_BETTER.includes(metric);
    const limit = lower ? theirs[metric] + tolerance : theirs[metric] - tolerance;
    checks.push({
      gate: `${metric} not worse than ${alias} v${champion.version} by more than ${tolerance}`,
      metric, value: metrics[metric], limit, passed: lower ? metrics[metric] <= limit : metrics[metric] >= limit,
    });
  }
  return report();

  function report(): GateReport {
    return {
      model: candidate.name, alias, candidate: { version: candidate.version, metrics }, champion: championScored,
      test_data: PATHS.test, checks, passed: checks.every((c) => c.passed),
    };
  }
}
