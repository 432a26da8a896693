import { ConfigError } from '../core/errors.js';
import { displayPath } from '../core/display.js';
import { readText } from '../core/files.js';
import { ENGINES, loadModel, type EngineName, type FittedModel } from './engine.js';
import type { Transform } from './transform.js';

// Reading the artifacts train and prepare wrote: the model JSON and the transform JSON.

export interface SavedModel {
  readonly engine: EngineName;
  readonly target: string;
  readonly features: string[];
  readonly classes: string[];
  readonly model: FittedModel;
}

function readJson(path: string, format: string): Record<string, unknown> {
  const { file, text } = readText(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError('not valid JSON', { file });
  }
  const json = value as Record<string, unknown> | null;
  if (json?.format !== format) throw new ConfigError(`not a ${format} file`, { file });
  return json;
}

export async function readModelFile(path: string): Promise<SavedModel> {
  const json = readJson(path, 'mlops-model/1');
  const engine = json.engine as EngineName;
  if (!ENGINES.includes(engine)) throw new ConfigError(`unknown engine ${JSON.stringify(engine)}`, { file: displayPath(path), key: 'engine' });
  const classes = json.classes as string[];
  return { engine, target: json.target as string, features: json.features as string[], classes, model: await loadModel(engine, json.model, classes.length) };
}

export function readTransformFile(path: string): Transform {
  return readJson(path, 'mlops-transform/1') as unknown as Transform;
}
