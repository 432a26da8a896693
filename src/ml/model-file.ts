import { ConfigError } from '../core/errors.js';
import { readJsonFile } from '../core/big-json.js';
import { displayPath } from '../core/display.js';
import { readText, unreadable } from '../core/files.js';
import { ENGINES, loadModel, type EngineName, type FittedModel } from './engine.js';
import type { Task } from './task.js';
import type { Transform } from './transform.js';

// Reading the artifacts train and prepare wrote: the model JSON and the transform JSON. Their shape is
// checked, so a damaged or hand-edited file is one located error, not a crash deep inside prediction.

export interface SavedModel {
  readonly engine: EngineName;
  readonly task: Task;
  readonly target: string;
  readonly features: string[];
  readonly classes: string[];
  readonly model: FittedModel;
}

const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isNumbers = (v: unknown[]) => v.every((n) => typeof n === 'number');

function readJson(path: string, format: string): { file: string; json: Record<string, unknown> } {
  const { file, text } = readText(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError('not valid JSON', { file });
  }
  return { file, json: ofFormat(file, value, format) };
}

function ofFormat(file: string, value: unknown, format: string): Record<string, unknown> {
  const json = value as Record<string, unknown> | null;
  if (json?.format !== format) throw new ConfigError(`not a ${format} file`, { file });
  return json;
}

export const MODEL_FORMAT = 'mlops-model/1';
/** Where a forest's trees sit in a model file: the part that may be too large for one string (core/big-json). */
export const MODEL_TREES = ['model', 'trees'] as const;

export async function readModelFile(path: string): Promise<SavedModel> {
  const file = displayPath(path);
  let value: unknown;
  try {
    value = await readJsonFile(path, MODEL_TREES);
  } catch (error) {
    throw error instanceof SyntaxError ? new ConfigError('not valid JSON', { file }) : unreadable(file, error);
  }
  const json = ofFormat(file, value, MODEL_FORMAT);
  const damaged = (key: string, detail: string) => new ConfigError(`${detail}; the file is damaged, rerun train`, { file, key });
  const engine = json.engine as EngineName;
  if (!ENGINES.includes(engine)) throw new ConfigError(`unknown engine ${JSON.stringify(engine)}`, { file, key: 'engine' });
  if (typeof json.target !== 'string') throw damaged('target', 'expected a column name');
  for (const key of ['features', 'classes']) if (!isNames(json[key])) throw damaged(key, 'expected a list of names');
  // model files from before regression have no task: they are classifiers
  const task = json.task ?? 'classification';
  if (task !== 'classification' && task !== 'regression') throw damaged('task', 'expected classification or regression');
  const classes = json.classes as string[];
  if (task === 'classification' && classes.length === 0) throw damaged('classes', 'a classifier needs its classes');
  let model: FittedModel;
  try {
    model = await loadModel(engine, json.model, task === 'regression' ? 1 : classes.length, (json.features as string[]).length);
  } catch (error) {
    throw damaged('model', `cannot load (${(error as Error).message})`);
  }
  return { engine, task, target: json.target, features: json.features as string[], classes, model };
}

export function readTransformFile(path: string): Transform {
  const { file, json } = readJson(path, 'mlops-transform/1');
  const damaged = (key: string) => new ConfigError('unexpected content; the file is damaged, rerun prepare', { file, key });
  if (!isNames(json.features)) throw damaged('features');
  if (json.encoding !== 'onehot' && json.encoding !== 'ordinal') throw damaged('encoding');
  if (!Array.isArray(json.columns)) throw damaged('columns');
  json.columns.forEach((c: Record<string, unknown> | null, i) => {
    const ok =
      typeof c?.name === 'string' &&
      (c.kind === 'numeric'
        ? isNumbers([c.mean, c.scale]) && (c.fill === null || typeof c.fill === 'number')
        : c.kind === 'categorical' && isNames(c.categories) && (c.fill === null || typeof c.fill === 'string'));
    if (!ok) throw damaged(`columns.${i}`);
  });
  if (json.na_values !== undefined && !isNames(json.na_values)) throw damaged('na_values');
  return json as unknown as Transform;
}
