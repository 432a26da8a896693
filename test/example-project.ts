import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { generateObesity } from '../src/ml/synthetic.js';
import { gitInit, PROJECT_ROOT, runMlops, writeFiles } from './helpers.js';

// The default example as the registry and ui tests and the screenshots see it: the project's own pipeline.yaml and
// params.yaml (a small grid, generated data, so it runs in seconds), reproduced twice with different
// grids so the registry holds two versions, v2 the champion after v1.

interface Params {
  train: { cv_folds: number; grid: Record<string, unknown[]> };
  evaluate: Record<string, unknown>;
  registry: Record<string, unknown>;
}

/**
 * The project's own params.yaml with a small grid, 2 CV folds and thresholds for generated data (harder
 * than the real set): evaluate's absolute thresholds dropped, the registry's accuracy gate relaxed;
 * `registry` replaces the registry section whole.
 */
export function exampleParams(grid: Record<string, unknown[]>, registry?: Record<string, unknown>): string {
  const params = parse(readFileSync(join(PROJECT_ROOT, 'params.yaml'), 'utf8')) as Params;
  params.train.cv_folds = 2;
  params.train.grid = grid;
  delete params.evaluate.thresholds;
  params.evaluate.permutation_repeats = 1;
  params.registry = registry ?? { ...params.registry, gates: { accuracy: { min: 0.3 } } };
  return stringify(params);
}

/** An absolute gate only (no champion/challenger), so the example's second model is promoted. */
const ABSOLUTE_GATE = { gates: { accuracy: { min: 0.3 } } };

async function repro(dir: string): Promise<void> {
  const r = await runMlops(['repro'], { cwd: dir });
  if (r.code !== 0) throw new Error(`repro failed (${r.code}): ${r.stderr}`);
}

/** Builds the example in `dir` (an empty folder): git, two repros, a committed baseline. */
export async function buildExample(dir: string): Promise<void> {
  writeFiles(dir, {
    'pipeline.yaml': readFileSync(join(PROJECT_ROOT, 'pipeline.yaml'), 'utf8'),
    'params.yaml': exampleParams({ n_estimators: [10], max_depth: [4, 8] }, ABSOLUTE_GATE),
    'data/raw/obesity.csv': generateObesity(300, 7),
    '.mlops/.gitignore': '*\n',
    '.gitignore': 'mlruns/\n',
  });
  gitInit(dir);
  await repro(dir);
  writeFileSync(join(dir, 'params.yaml'), exampleParams({ n_estimators: [20], max_depth: [8, 12] }, ABSOLUTE_GATE));
  await repro(dir);
}
