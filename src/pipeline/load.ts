// Reads pipeline files (pipeline.yaml, dvc.yaml, or `--file FILE`) into the expanded Pipelines of
// model.ts: vars and params.yaml loaded, `${}` resolved, foreach/matrix expanded, and every config
// error found up front (with file, line and key) so nothing runs or is written from a bad file. A
// project is every pipeline file under its root, read as one graph.
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, posix, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { ReadRecorder, readYamlFile, type YamlSource } from '../core/yaml.js';
import { displayPath } from '../core/display.js';
import { DEFAULT_PARAMS_FILE } from '../params/params.js';
import { addressed } from './address.js';
import { collectPipelineFiles, PIPELINE_FILES } from './collect.js';
import { buildGraph } from './graph.js';
import type { Pipeline, Stage, TopLevelPlot } from './model.js';
import { Context } from './parse/context.js';
import { expandStage, MAX_STAGES, resolveAt } from './parse/expand.js';
import { checkOutputs } from './parse/outputs.js';
import { checkParams } from './parse/params-check.js';
import { joinRel } from './parse/paths.js';
import { checkFlags, checkKeys, list, mapping, stringList, TOP_KEYS, TOP_PLOT_PROPS, type YamlPath } from './parse/schema.js';
import { buildStage } from './parse/stage.js';

export { PIPELINE_FILES };

/** Absolute path of the pipeline file: `file` (absolute, or relative to root) when given, else the root's default. */
export function findPipelineFile(root: string, file?: string, reads = new ReadRecorder()): string {
  if (file !== undefined) {
    const abs = resolve(root, file);
    if (!existsSync(abs)) throw new ConfigError('pipeline file not found', { file: displayPath(abs) });
    const rel = relative(root, abs);
    if (rel.startsWith('..') || resolve(root, rel) !== abs) throw new ConfigError(`pipeline file is outside the project '${displayPath(root)}'`, { file: displayPath(abs) });
    return abs;
  }
  for (const name of PIPELINE_FILES) {
    const candidate = join(root, name);
    // Recorded even when absent: a pipeline.yaml created beside dvc.yaml takes over from it.
    reads.record(candidate);
    if (existsSync(candidate)) return candidate;
  }
  throw new ConfigError(`no ${PIPELINE_FILES.join(' or ')} here (use --file FILE to name another)`, { file: displayPath(root) });
}

/** `pipeline.yaml` -> `pipeline.lock`, `dvc.yaml` -> `dvc.lock`, `X.yaml` -> `X.lock`, beside it. */
export function lockFileFor(file: string): string {
  return join(dirname(file), `${basename(file, extname(file))}.lock`);
}

/**
 * One pipeline file (the root's default when `file` is not given), its paths relative to `root`;
 * `reads` records every file it depended on (for a snapshot of the result).
 */
export function loadPipeline(root: string, file?: string, reads = new ReadRecorder()): Pipeline {
  const pipeline = parsePipelineFile(root, findPipelineFile(root, file, reads), reads);
  buildGraph([pipeline]); // refuses cycles now, before anything runs
  return pipeline;
}

export interface ProjectFiles {
  /** Only this pipeline file (absolute), instead of every pipeline file under the root. */
  readonly file?: string;
  /** Root-relative folders no output may be, contain or lie in, besides the tool's own (the tracking folder); not searched for pipeline files. */
  readonly owned?: readonly string[];
}

/**
 * Every pipeline of the project (or only `file`), checked as one graph: no output declared twice
 * across files, no cycle across files. Stages are named relative to `cwd` (see Stage.address).
 */
export function loadProject(root: string, cwd: string, { file, owned = [] }: ProjectFiles = {}, reads = new ReadRecorder()): { pipelines: Pipeline[]; walked: string[] } {
  const only = file === undefined ? undefined : relative(root, findPipelineFile(root, file, reads)).split(sep).join('/');
  const collected = only === undefined ? collectPipelineFiles(root, owned) : { files: [only], dirs: [], ignoreFiles: [] };
  for (const ignore of collected.ignoreFiles) reads.record(ignore);
  const parsed = collected.files.map((rel) => parsePipelineFile(root, join(root, rel), reads, owned));
  const pipelines = addressed(parsed, root, cwd, file === undefined ? undefined : collected.files[0]);
  checkAcrossFiles(pipelines);
  buildGraph(pipelines); // refuses cycles (across files too) now, before anything runs
  return { pipelines, walked: collected.dirs };
}

function parsePipelineFile(root: string, path: string, reads: ReadRecorder, owned: readonly string[] = []): Pipeline {
  const source = readYamlFile(path, reads);
  const top = source.value === null ? {} : mapping(source.value, source, [], 'a mapping at the top level');
  checkKeys(top, TOP_KEYS, source, [], 'top-level');
  const base = dirname(path);
  const fileRel = relative(root, path).split(sep).join('/');
  const dirRel = posix.dirname(fileRel);

  const context = Context.empty(reads);
  context.loadDefault(base, DEFAULT_PARAMS_FILE);
  if (top.vars !== undefined) context.loadVars(root, dirRel, top.vars, source, ['vars'], 'vars');

  const stages = top.stages === undefined ? {} : mapping(top.stages, source, ['stages'], 'a mapping of stage names to definitions');
  const templates = Object.entries(stages).flatMap(([name, raw]) => expandStage(name, raw, context, source));
  if (templates.length > MAX_STAGES) {
    throw source.error(['stages'], `the pipeline defines ${templates.length.toLocaleString('en-US')} stages; at most ${MAX_STAGES.toLocaleString('en-US')} are allowed`);
  }
  const built = templates.map((template) => buildStage(template, root, dirRel, fileRel, source));
  const lockFile = lockFileFor(path);
  // Neither this file, its lock, nor a pipeline file (or lock) that may appear beside it can be an output.
  const pipelineFiles = [...new Set([basename(path), ...PIPELINE_FILES])].flatMap((f) => [posix.join(dirRel, f), posix.join(dirRel, basename(lockFileFor(f)))]);
  checkOutputs(built, root, source, pipelineFiles, owned);
  checkParams(built, root, source, reads);

  return {
    file: path,
    fileRel,
    root,
    lockFile,
    stages: built.map((b) => b.stage),
    params: topLevelPaths(top, 'params', dirRel, context, source),
    metrics: topLevelPaths(top, 'metrics', dirRel, context, source),
    plots: topLevelPlots(top.plots, context, source),
  };
}

/** Outputs across files: one owner per path, none inside another's (within one file, checkOutputs says where). */
function checkAcrossFiles(pipelines: readonly Pipeline[]): void {
  const owners = new Map<string, { stage: Stage; pipeline: Pipeline }>();
  const clash = (pipeline: Pipeline, stage: Stage, detail: string) =>
    new ConfigError(detail, { file: displayPath(pipeline.file), line: stage.line, key: `stages.${stage.name}` });
  for (const pipeline of pipelines) {
    for (const stage of pipeline.stages) {
      for (const out of stage.outs) {
        const owner = owners.get(out.rel);
        if (owner) throw clash(pipeline, stage, `output '${out.rel}' is declared by both '${owner.stage.address}' and '${stage.address}'`);
        owners.set(out.rel, { stage, pipeline });
      }
    }
  }
  for (const { stage, pipeline } of owners.values()) {
    for (const out of stage.outs) {
      const parts = out.rel.split('/');
      for (let n = 1; n < parts.length; n++) {
        const owner = owners.get(parts.slice(0, n).join('/'));
        if (owner && owner.stage !== stage) {
          throw clash(pipeline, stage, `output '${out.rel}' of '${stage.address}' lies inside output '${owner.stage.outs.find((o) => o.rel === parts.slice(0, n).join('/'))!.rel}' of '${owner.stage.address}'; outputs must not overlap`);
        }
      }
    }
  }
}

function topLevelPaths(top: Record<string, unknown>, key: string, dirRel: string, context: Context, source: YamlSource): string[] {
  const paths = stringList(resolveAt(top[key], context, 'value', source, [key]), source, [key]);
  return paths.map((p, i) => {
    const rel = joinRel(dirRel, p);
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
    if (typeof entry === 'string') {
      if (joinRel('.', entry) === null) throw source.error(at, `'${entry}' is outside the project`);
      return [{ id: entry, props: {} }];
    }
    return Object.entries(mapping(entry, source, at, 'a path or an {id: properties} mapping')).map(([id, props]) => {
      const p = props === null ? {} : mapping(props, source, [...at, id], 'a mapping of plot properties');
      checkFlags(p, TOP_PLOT_PROPS, source, [...at, id], 'plot');
      return { id, props: p };
    });
  });
}
