// Reads pipeline.yaml (or dvc.yaml, or `-f FILE`) into the expanded Pipeline of model.ts: vars and
// params.yaml loaded, `${}` resolved, foreach/matrix expanded, and every config error found up
// front (with file, line and key) so nothing runs or is written from a bad file.
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { ReadRecorder, readYamlFile, type YamlSource } from '../core/yaml.js';
import { displayPath } from '../core/display.js';
import { DEFAULT_PARAMS_FILE } from '../params/params.js';
import { buildGraph } from './graph.js';
import type { Pipeline, TopLevelPlot } from './model.js';
import { Context } from './parse/context.js';
import { expandStage, resolveAt } from './parse/expand.js';
import { checkOutputs } from './parse/outputs.js';
import { checkParams } from './parse/params-check.js';
import { joinRel } from './parse/paths.js';
import { checkFlags, checkKeys, list, mapping, string, stringList, TOP_KEYS, TOP_PLOT_PROPS, type YamlPath } from './parse/schema.js';
import { buildStage } from './parse/stage.js';

export const PIPELINE_FILES = ['pipeline.yaml', 'dvc.yaml'] as const;

/** Absolute path of the pipeline file: `file` (relative to root) when given, else the first default. */
export function findPipelineFile(root: string, file?: string, reads = new ReadRecorder()): string {
  if (file !== undefined) {
    const abs = resolve(root, file);
    if (!existsSync(abs)) throw new ConfigError('pipeline file not found', { file: displayPath(abs) });
    return abs;
  }
  for (const name of PIPELINE_FILES) {
    const candidate = join(root, name);
    // Recorded even when absent: a pipeline.yaml created beside dvc.yaml takes over from it.
    reads.record(candidate);
    if (existsSync(candidate)) return candidate;
  }
  throw new ConfigError(`no ${PIPELINE_FILES.join(' or ')} here (use -f FILE to name another)`, { file: displayPath(root) });
}

/** `pipeline.yaml` -> `pipeline.lock`, `dvc.yaml` -> `dvc.lock`, `X.yaml` -> `X.lock`, beside it. */
export function lockFileFor(file: string): string {
  return join(dirname(file), `${basename(file, extname(file))}.lock`);
}

/** Parses the pipeline; `reads` records every file it depended on (for a snapshot of the result). */
export function loadPipeline(root: string, file?: string, reads = new ReadRecorder()): Pipeline {
  const path = findPipelineFile(root, file, reads);
  const source = readYamlFile(path, reads);
  const top = source.value === null ? {} : mapping(source.value, source, [], 'a mapping at the top level');
  checkKeys(top, TOP_KEYS, source, [], 'top-level');
  const base = dirname(path);

  const context = Context.empty(reads);
  context.loadDefault(base, DEFAULT_PARAMS_FILE);
  if (top.vars !== undefined) context.loadVars(base, '.', top.vars, source, ['vars'], 'vars');

  const stages = top.stages === undefined ? {} : mapping(top.stages, source, ['stages'], 'a mapping of stage names to definitions');
  const built = Object.entries(stages)
    .flatMap(([name, raw]) => expandStage(name, raw, context, source))
    .map((template) => buildStage(template, base, source));
  const lockFile = lockFileFor(path);
  checkOutputs(built, base, source, [basename(path), basename(lockFile)]);
  checkParams(built, base, source, reads);

  const pipeline: Pipeline = {
    file: path,
    root: base,
    lockFile,
    stages: built.map((b) => b.stage),
    params: topLevelPaths(top, 'params', context, source),
    metrics: topLevelPaths(top, 'metrics', context, source),
    plots: topLevelPlots(top.plots, context, source),
  };
  buildGraph(pipeline); // refuses cycles now, before anything runs
  return pipeline;
}

function topLevelPaths(top: Record<string, unknown>, key: string, context: Context, source: YamlSource): string[] {
  const paths = stringList(resolveAt(top[key], context, 'value', source, [key]), source, [key]);
  return paths.map((p, i) => {
    const rel = joinRel('.', p);
    if (rel === null) throw source.error([key, i], `'${p}' is outside the project`);
    return rel;
  });
}

// Entries are a path, or `{id: {x, y, ...}}` (the props may be empty).
function topLevelPlots(raw: unknown, context: Context, source: YamlSource): TopLevelPlot[] {
  if (raw === undefined || raw === null) return [];
  const plots = list(resolveAt(raw, context, 'value', source, ['plots']), source, ['plots']);
  return plots.flatMap((entry, i): TopLevelPlot[] => {
    const at: YamlPath = ['plots', i];
    if (typeof entry === 'string') return [{ id: string(entry, source, at), props: {} }];
    return Object.entries(mapping(entry, source, at, 'a path or an {id: properties} mapping')).map(([id, props]) => {
      const p = props === null ? {} : mapping(props, source, [...at, id], 'a mapping of plot properties');
      checkFlags(p, TOP_PLOT_PROPS, source, [...at, id], 'plot');
      return { id, props: p };
    });
  });
}

