import { basename } from 'node:path';
import { loadPredictor, type Predictor } from '../ml/predict.js';
import type { Project } from '../project/project.js';
import { parseModelUri } from '../registry/names.js';
import { resolveModel } from '../registry/resolve.js';

/** The model a server answers with: what it is called in responses and metrics, and its predictor. */
export interface ServedModel {
  readonly name: string;
  /** The registry version; undefined for a model served from a path. */
  readonly version?: number;
  /** What the user asked to serve (a models:/ URI or a path). */
  readonly source: string;
  readonly predictor: Predictor;
}

/** Resolves a models:/ URI or a path (verified, as `mlops predict` does) and loads it. */
export async function loadServedModel(project: Project, source: string): Promise<ServedModel> {
  const resolved = await resolveModel(project, source);
  const predictor = await loadPredictor(resolved.model, resolved.transform);
  const name = parseModelUri(source)?.name ?? basename(resolved.model).replace(/\.json$/, '');
  return { name, version: resolved.version?.version, source, predictor };
}
