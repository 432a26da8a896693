import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Pipeline } from '../pipeline/model.js';
import { DEFAULT_PARAMS_FILE } from '../params/params.js';
import { parseValues, type Values } from './parse.js';
import { WORKSPACE, type TreeReader } from './tree.js';

/** Values of each file in one tree, in file order; null where the file does not exist in that tree. */
export type Snapshot = Map<string, Values | null>;

const unique = (paths: Iterable<string>) => [...new Set(paths)];

/**
 * Every `metrics` output of every stage, then the top-level `metrics:` list, pipeline by pipeline
 * (paths relative to the root): as DVC, `metrics show` without targets covers every pipeline file.
 */
export function metricsFiles(pipelines: readonly Pipeline[]): string[] {
  return unique(
    pipelines.flatMap((pipeline) => [
      ...pipeline.stages.flatMap((s) => s.outs.filter((o) => o.kind === 'metrics').map((o) => o.rel)),
      ...pipeline.metrics,
    ]),
  );
}

/** The root's params.yaml when it exists, then every params file a stage tracks and the top-level `params:` lists. */
export function paramsFiles(root: string, pipelines: readonly Pipeline[]): string[] {
  const defaults = existsSync(join(root, DEFAULT_PARAMS_FILE)) ? [DEFAULT_PARAMS_FILE] : [];
  return unique([
    ...defaults,
    ...pipelines.flatMap((pipeline) => [...pipeline.stages.flatMap((s) => s.params.map((p) => p.rel)), ...pipeline.params]),
  ]);
}

export type ValuesKind = 'metrics' | 'params';

// As DVC: a metric is a number, a string or a boolean; lists and nulls (a CV fold list, say) are not
// metrics and would only bloat the table. Params keep every value, lists of grid values included.
const isMetric = (value: unknown) => ['number', 'string', 'boolean'].includes(typeof value);

/** Reads and flattens every file in one tree; a missing file is null, a malformed one an error naming it. */
export async function readSnapshot(tree: TreeReader, files: readonly string[], kind: ValuesKind): Promise<Snapshot> {
  const snapshot: Snapshot = new Map();
  for (const file of files) {
    const text = await tree.read(file);
    const where = tree.label === WORKSPACE ? file : `${file} (at ${tree.label})`;
    const values = text === null ? null : parseValues(text, file, where);
    snapshot.set(file, values && kind === 'metrics' ? Object.fromEntries(Object.entries(values).filter(([, v]) => isMetric(v))) : values);
  }
  return snapshot;
}
