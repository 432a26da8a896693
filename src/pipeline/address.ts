// How stages are named for the current folder, as DVC names them: a stage of the folder's own pipeline
// file by its name, any other as `path/to/dvc.yaml:name` relative to the folder. Light on purpose:
// the no-op path uses it without loading the YAML parser.
import { posix, relative, sep } from 'node:path';
import { PIPELINE_FILES } from './collect.js';
import type { Pipeline, Stage } from './model.js';

/**
 * The pipelines with each stage's address made relative to `cwd` (DVC's `path/dvc.yaml:stage`); the
 * stages of `own` (default: the current folder's pipeline file) keep their bare names.
 */
export function addressed(pipelines: readonly Pipeline[], root: string, cwd: string, own?: string): Pipeline[] {
  const here = cwdRel(root, cwd);
  own ??= defaultFileOf(pipelines, here);
  return pipelines.map((p) => ({
    ...p,
    stages: p.stages.map((s) => ({ ...s, address: p.fileRel === own ? s.name : `${posix.relative(here === '.' ? '' : here, p.fileRel)}:${s.name}` })),
  }));
}

/**
 * The stage's name wherever the command runs: bare for a pipeline file at the root, else
 * `sub/dvc.yaml:name`. Tracked runs use it, so the same stage's runs share one name.
 */
export function rootAddress(stage: Pick<Stage, 'file' | 'name'>): string {
  return posix.dirname(stage.file) === '.' ? stage.name : `${stage.file}:${stage.name}`;
}

/** The current folder relative to the root ('.' for the root, or when the folder is outside it). */
export function cwdRel(root: string, cwd: string): string {
  const rel = relative(root, cwd).split(sep).join('/');
  return rel === '' || rel.startsWith('..') ? '.' : rel;
}

/** The pipeline file a folder's bare stage names refer to: its pipeline.yaml, else its dvc.yaml. */
export function defaultFileOf(pipelines: readonly Pipeline[], dirRel: string): string | undefined {
  for (const name of PIPELINE_FILES) {
    const rel = dirRel === '.' ? name : `${dirRel}/${name}`;
    if (pipelines.some((p) => p.fileRel === rel)) return rel;
  }
  return undefined;
}
