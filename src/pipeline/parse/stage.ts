// Resolves one stage template (vars, `${}`) and reads it into the typed Stage of model.ts.
import { isAbsolute } from 'node:path';
import type { YamlSource } from '../../core/yaml.js';
import { DEFAULT_PARAMS_FILE } from '../../params/params.js';
import type { OutKind, OutSpec, ParamSpec, PathRef, Stage } from '../model.js';
import { resolveAt, type StageTemplate } from './expand.js';
import { isMapping } from './interpolate.js';
import { joinRel } from './paths.js';
import { boolean, checkFlags, list, mapping, OUT_FLAGS, PLOT_FLAGS, string, stringList, typeName, type YamlPath } from './schema.js';

const OUT_KINDS: readonly OutKind[] = ['outs', 'metrics', 'plots'];

/** A stage with the YAML paths of its parts, so later checks can point at the exact line. */
export interface BuiltStage {
  readonly stage: Stage;
  readonly deps: YamlPath[];
  readonly outs: YamlPath[];
  /** `file` or `file:key` (as written) -> the entry that names it. */
  readonly params: Map<string, YamlPath>;
  /** Appended to messages about a generated stage: ` (in stage 'build@us')`. */
  readonly suffix: string;
}

/**
 * `root` is the absolute project root, `dirRel` the pipeline file's folder and `file` the file itself
 * (both relative to the root): paths are resolved from the stage's wdir, and may use `../` as long
 * as they stay inside the root. A dependency may also be external: an absolute path or an http(s) URL.
 */
export function buildStage(template: StageTemplate, root: string, dirRel: string, file: string, source: YamlSource): BuiltStage {
  const { name, body, path } = template;
  const stage = template.generated ? name : undefined;
  const fail = (sub: YamlPath, detail: string) => source.error([...path, ...sub], stage ? `${detail} (in stage '${stage}')` : detail);
  if (!('cmd' in body)) throw fail([], `stage '${name}' has no 'cmd'`);

  // wdir first: the stage's own vars files are relative to it (as in DVC).
  const wdir = body.wdir === undefined ? '.' : string(resolveAt(body.wdir, template.context, 'value', source, [...path, 'wdir'], stage), source, [...path, 'wdir']);
  const wdirRel = joinRel(dirRel, wdir);
  if (wdirRel === null) throw fail(['wdir'], `wdir '${wdir}' is outside the project`);
  let context = template.context;
  if (body.vars !== undefined) {
    context = context.clone();
    context.loadVars(root, wdirRel, body.vars, source, [...path, 'vars'], `${name}.vars`);
  }
  const resolved = (key: string) => resolveAt(body[key], context, key === 'cmd' ? 'cmd' : 'value', source, [...path, key], stage);

  const cmdValue = resolved('cmd');
  const cmd = typeof cmdValue === 'string' ? [cmdValue] : Array.isArray(cmdValue) ? cmdValue.map((c, i) => string(c, source, [...path, 'cmd', i])) : undefined;
  if (!cmd) throw fail(['cmd'], `expected a command string or a list of commands, got ${typeName(cmdValue)}`);
  if (cmd.length === 0 || cmd.some((c) => !c.trim())) throw fail(['cmd'], 'empty command');

  const ref = (written: string, sub: YamlPath, what: string): PathRef => {
    const rel = joinRel(wdirRel, written);
    if (rel === null) throw fail(sub, `${what} '${written}' is outside the project`);
    return { path: written, rel };
  };
  const dep = (written: string, i: number): PathRef => {
    const external = externalKind(written);
    if (external === 'unsupported') throw fail(['deps', i], `dependency '${written}': only local paths and http(s) URLs are supported`);
    return external ? { path: written, rel: written, external } : ref(written, ['deps', i], 'dependency');
  };
  const deps = stringList(resolved('deps'), source, [...path, 'deps']).map(dep);
  const paramPaths = new Map<string, YamlPath>();
  const params = readParams(resolved('params'), wdirRel, source, [...path, 'params'], fail, paramPaths);
  const outs: OutSpec[] = [];
  const outPaths: YamlPath[] = [];
  for (const kind of OUT_KINDS) {
    const entries = resolved(kind);
    if (entries === undefined || entries === null) continue;
    for (const [i, entry] of list(entries, source, [...path, kind]).entries()) {
      outs.push(readOut(kind, entry, [kind, i], ref, source, path));
      outPaths.push([...path, kind, i]);
    }
  }
  const desc = body.desc === undefined ? undefined : string(resolved('desc'), source, [...path, 'desc']);
  const built: Stage = {
    name,
    file,
    address: name, // made relative to the current folder once every file is read
    cmd,
    wdir,
    wdirRel,
    deps,
    params,
    outs,
    frozen: boolean(resolved('frozen'), source, [...path, 'frozen'], false),
    alwaysChanged: boolean(resolved('always_changed'), source, [...path, 'always_changed'], false),
    ...(desc === undefined ? {} : { desc }),
    ...(body.meta === undefined ? {} : { meta: resolved('meta') }),
    line: source.lineOf(template.generated ? path.slice(0, 2) : path),
  };
  return {
    stage: built,
    deps: deps.map((_, i) => [...path, 'deps', i]),
    outs: outPaths,
    params: paramPaths,
    suffix: stage ? ` (in stage '${stage}')` : '',
  };
}

/** A dependency outside the project, as DVC takes them: an absolute local path or an http(s) URL. */
function externalKind(written: string): PathRef['external'] | 'unsupported' | undefined {
  if (/^https?:\/\//i.test(written)) return 'http';
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(written)) return 'unsupported';
  return isAbsolute(written) ? 'local' : undefined;
}

// An output is a path, or `{path: flags}` with exactly one key.
function readOut(kind: OutKind, entry: unknown, sub: YamlPath, ref: (p: string, s: YamlPath, w: string) => PathRef, source: YamlSource, path: YamlPath): OutSpec {
  const at = [...path, ...sub];
  let written: string;
  let flags: Record<string, unknown> = {};
  if (typeof entry === 'string') {
    written = entry;
  } else {
    const one = mapping(entry, source, at, 'a path or a {path: flags} mapping');
    const keys = Object.keys(one);
    if (keys.length !== 1) throw source.error(at, `expected one path with its flags, got ${keys.length} keys`);
    written = keys[0]!;
    flags = one[written] === null ? {} : mapping(one[written], source, [...at, written], 'a mapping of flags');
    checkFlags(flags, kind === 'plots' ? PLOT_FLAGS : OUT_FLAGS, source, [...at, written], kind === 'plots' ? 'plot' : 'output');
  }
  const { cache, persist, desc } = flags;
  const plot = Object.fromEntries(Object.entries(flags).filter(([key]) => !(key in OUT_FLAGS)));
  return {
    ...ref(written, sub, 'output'),
    kind,
    cache: cache === undefined ? true : (cache as boolean),
    persist: persist === true,
    ...(desc === undefined ? {} : { desc: desc as string }),
    ...(kind === 'plots' && Object.keys(plot).length ? { plot } : {}),
  };
}

// Params: bare keys live in params.yaml (beside the stage's wdir); `{file: [keys]}` names another
// file; `{file: null}` or an empty list tracks the whole file. Entries for one file are merged.
function readParams(
  value: unknown,
  wdirRel: string,
  source: YamlSource,
  path: YamlPath,
  fail: (sub: YamlPath, detail: string) => Error,
  paths: Map<string, YamlPath>,
): ParamSpec[] {
  if (value === undefined || value === null) return [];
  const byFile = new Map<string, { rel: string; keys: string[] | null }>();
  const add = (file: string, keys: string[] | null, sub: YamlPath) => {
    const rel = joinRel(wdirRel, file);
    if (rel === null) throw fail(sub, `params file '${file}' is outside the project`);
    const spec = byFile.get(file) ?? { rel, keys: [] };
    spec.keys = keys === null || spec.keys === null ? null : [...new Set([...spec.keys, ...keys])];
    byFile.set(file, spec);
    for (const name of [file, ...(keys ?? []).map((k) => `${file}:${k}`)]) {
      if (!paths.has(name)) paths.set(name, [...path.slice(0, -1), ...sub]);
    }
  };
  for (const [i, entry] of list(value, source, path).entries()) {
    if (typeof entry === 'string') {
      add(DEFAULT_PARAMS_FILE, [entry], ['params', i]);
    } else if (isMapping(entry)) {
      for (const [file, keys] of Object.entries(entry)) {
        const at: YamlPath = [...path, i, file];
        const named = keys === null ? [] : stringList(keys, source, at);
        add(file, named.length ? named : null, ['params', i, file]);
      }
    } else {
      throw source.error([...path, i], `expected a param key or a {file: [keys]} mapping, got ${typeName(entry)}`);
    }
  }
  return [...byFile].map(([file, { rel, keys }]) => ({ file, rel, keys }));
}
