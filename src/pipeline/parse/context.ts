// The data `${}` expressions read: params.yaml (loaded automatically), then `vars` entries (files,
// `file.yaml:k1,k2`, or inline mappings). A key may not be defined twice from different sources.
import { existsSync } from 'node:fs';
import { setOwn } from '../../core/flatten.js';
import { join, posix } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { readsAsYaml, readYamlFile, type ReadRecorder, type YamlSource } from '../../core/yaml.js';
import { hasTemplate, isMapping } from './interpolate.js';
import { typeName } from './schema.js';

interface At {
  source: YamlSource;
  path: (string | number)[];
}

export class Context {
  private constructor(
    readonly data: Record<string, unknown>,
    /** Where each defined key path (dotted) came from, for "cannot redefine" messages. */
    private readonly origins: Map<string, string>,
    /** Files already loaded: rel path -> the keys taken, or null for the whole file. */
    private readonly imports: Map<string, Set<string> | null>,
    /** Where every file read is recorded, for the snapshot of this parse. */
    private readonly reads: ReadRecorder,
  ) {}

  static empty(reads: ReadRecorder): Context {
    return new Context({}, new Map(), new Map(), reads);
  }

  /** A copy that a stage can extend with its own vars, item and key without touching the original. */
  clone(): Context {
    return new Context(structuredClone(this.data), new Map(this.origins), new Map(this.imports), this.reads);
  }

  /**
   * Sets a loop variable (`item`, `key`), shadowing any value of that name. Shallow: the result is
   * only read, or cloned before vars are merged into it.
   */
  with(name: string, value: unknown): Context {
    return new Context({ ...this.data, [name]: value }, this.origins, this.imports, this.reads);
  }

  /**
   * Loads a `vars` list. `root` is the absolute project root, `dirRel` the folder (relative to root)
   * that file entries are relative to, `path` the YAML path of the list for located errors and
   * `label` how inline entries are named in messages (`vars`, `train.vars`).
   */
  loadVars(root: string, dirRel: string, vars: unknown, source: YamlSource, path: (string | number)[], label: string): void {
    if (!Array.isArray(vars)) throw source.error(path, `expected a list of files or mappings, got ${typeName(vars)}`);
    for (const [i, entry] of vars.entries()) {
      const at = { source, path: [...path, i] };
      if (typeof entry === 'string') {
        if (hasTemplate(entry)) throw source.error(at.path, 'interpolation is not allowed in vars');
        const [file, keys] = splitVarsEntry(entry);
        this.loadFile(root, posix.join(dirRel, file), keys, at);
      } else if (isMapping(entry)) {
        if (hasTemplate(JSON.stringify(entry))) throw source.error(at.path, 'interpolation is not allowed in vars');
        this.merge(entry, `${label}[${i}]`, at);
      } else {
        throw source.error(at.path, `expected a file name or a mapping, got ${typeName(entry)}`);
      }
    }
  }

  /** Loads params.yaml (or another default file) when it exists; its appearance later matters too. */
  loadDefault(root: string, rel: string): void {
    const abs = join(root, rel);
    this.reads.record(abs);
    if (existsSync(abs)) this.loadFile(root, rel, [], undefined);
  }

  // A file named again (whole, or some of its keys) loads only what is not loaded yet.
  private loadFile(root: string, rel: string, keys: string[], at: At | undefined): void {
    rel = posix.normalize(rel);
    const done = this.imports.get(rel);
    if (done === null) return;
    const fail = (detail: string) => (at ? at.source.error(at.path, detail) : new ConfigError(detail, { file: rel }));
    const abs = join(root, rel);
    if (!readsAsYaml(rel)) throw fail(`unsupported vars file '${rel}' (use YAML or JSON)`);
    if (!existsSync(abs)) throw fail(`vars file '${rel}' not found`);
    const file = readYamlFile(abs, this.reads);
    const top = file.value ?? {};
    if (!isMapping(top)) throw file.error([], 'expected a mapping at the top level');
    for (const key of keys) if (!Object.hasOwn(top, key)) throw fail(`could not find '${key}' in '${rel}'`);
    const wanted = (keys.length ? keys : Object.keys(top)).filter((k) => !done?.has(k));
    this.merge(Object.fromEntries(wanted.map((k) => [k, top[k]])), rel, at);
    this.imports.set(rel, keys.length ? new Set([...(done ?? []), ...wanted]) : null);
  }

  private merge(incoming: Record<string, unknown>, from: string, at: At | undefined, prefix = '', into = this.data): void {
    for (const [key, value] of Object.entries(incoming)) {
      const dotted = prefix ? `${prefix}.${key}` : key;
      // Own keys only: a `__proto__` key must merge as data, never into Object.prototype.
      const existing = Object.hasOwn(into, key) ? into[key] : undefined;
      if (isMapping(existing) && isMapping(value)) {
        this.merge(value, from, at, dotted, existing);
      } else if (Object.hasOwn(into, key)) {
        const detail = `cannot redefine '${dotted}' from '${from}' as it already exists in '${this.originOf(dotted)}'`;
        throw at ? at.source.error(at.path, detail) : new ConfigError(detail, { file: from });
      } else {
        setOwn(into, key, structuredClone(value));
        this.origins.set(dotted, from);
      }
    }
  }

  private originOf(dotted: string): string {
    for (let key = dotted; key; key = key.slice(0, Math.max(0, key.lastIndexOf('.')))) {
      const origin = this.origins.get(key);
      if (origin) return origin;
    }
    return 'unknown';
  }
}

function splitVarsEntry(entry: string): [string, string[]] {
  const colon = entry.indexOf(':');
  if (colon < 0) return [entry, []];
  return [entry.slice(0, colon), entry.slice(colon + 1).split(',').map((k) => k.trim()).filter(Boolean)];
}
