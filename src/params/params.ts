import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { readYamlFile, type YamlSource } from '../core/yaml.js';

export const DEFAULT_PARAMS_FILE = 'params.yaml';

/** One top-level section of params.yaml (`train:`, `drift:` ...) with its source for located errors. */
export interface ParamsSection {
  readonly source: YamlSource;
  readonly name: string;
  readonly value: Record<string, unknown>;
}

export function loadParamsSection(root: string, name: string, file = DEFAULT_PARAMS_FILE): ParamsSection {
  const path = join(root, file);
  if (!existsSync(path)) throw new ConfigError('file not found', { file });
  const source = readYamlFile(path);
  const top = source.value;
  if (top === null || typeof top !== 'object' || Array.isArray(top)) throw source.error([], 'expected a mapping at the top level');
  const value = (top as Record<string, unknown>)[name];
  if (value === undefined) throw source.error([], `no '${name}:' section`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw source.error([name], 'expected a mapping');
  return { source, name, value: value as Record<string, unknown> };
}
