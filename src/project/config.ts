import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { displayPath } from '../core/display.js';
import { readText } from '../core/files.js';
import { ConfigError, didYouMean, NotFoundError, UsageError } from '../core/errors.js';
import { IniDocument, type IniEntry, type SectionId } from './ini.js';

// `.mlops/config` (committed) and `.mlops/config.local` (git-ignored, for what must not be shared),
// in `.dvc/config`'s format; a local value overrides the shared one. In a DVC repository `.dvc/config`
// and `.dvc/config.local` are read too, for the one setting both tools share: `cache.dir`.

export const MLOPS_DIR = '.mlops';
export type ConfigLevel = 'repo' | 'local';
const FILE_NAME: Record<ConfigLevel, string> = { repo: 'config', local: 'config.local' };

interface KeySpec {
  readonly help: string;
}

interface SectionSpec {
  /** `['remote "name"']`-style sections, addressed as `remote.name.key`. */
  readonly named?: boolean;
  readonly keys: Readonly<Record<string, KeySpec>>;
}

/** Every section and key `.mlops/config` accepts: a new setting (remotes, the model registry) is one more row. */
export const CONFIG_SECTIONS: Readonly<Record<string, SectionSpec>> = {
  core: { keys: { remote: { help: 'the default remote for push, pull, fetch and status -c (as in DVC)' } } },
  cache: { keys: { dir: { help: "the cache folder, relative to the config file's folder (as in DVC)" } } },
  tracking: {
    keys: {
      uri: { help: 'where runs are recorded: a path (relative to the project root), file: URI, sqlite:///path or postgresql://user@host:port/db' },
      artifact_root: { help: "where a database store keeps run artifacts: a folder (relative to the project root), file: URI or s3://bucket/prefix (with the settings of the remote on that bucket; default: mlartifacts)" },
      experiment: { help: 'the experiment runs are recorded in (default: Default)' },
    },
  },
  predictions: {
    keys: {
      uri: { help: "where mlops serve logs predictions: a SQLite file path (relative to the project root; default .mlops/predictions.db), sqlite: or postgresql:// URI" },
      retention: { help: 'how long logged predictions are kept, e.g. 30d, 12h, 2w (default: forever)' },
    },
  },
  queue: {
    keys: {
      url: { help: 'the broker of the experiment queue, redis://host:6379/0 (default: the embedded queue under .mlops/queue)' },
      prefix: { help: "the broker's key prefix, so several projects share one Redis (default: mlops)" },
      visibility_timeout: { help: "seconds before a running job whose worker went silent is given to another (default: 30)" },
    },
  },
  // DVC's keys for S3 and local remotes, so a `.dvc/config` remote section reads the same here.
  remote: {
    named: true,
    keys: {
      url: { help: 's3://bucket/prefix, or a local or mounted folder (relative to the config file)' },
      endpointurl: { help: 'an S3-compatible server (MinIO, Ceph...): http(s)://host:port' },
      region: { help: 'the S3 region' },
      profile: { help: 'the AWS profile of ~/.aws/credentials to sign with' },
      access_key_id: { help: 'S3 access key id (keep it in config.local)' },
      secret_access_key: { help: 'S3 secret access key (keep it in config.local)' },
      session_token: { help: 'S3 session token (keep it in config.local)' },
      use_ssl: { help: 'false: plain http to endpointurl' },
      ssl_verify: { help: "false: do not check the server's certificate" },
      jobs: { help: 'transfers at once (default: 4 per core)' },
    },
  },
};

/** A key as the command line and messages write it: `cache.dir`, `remote.name.url`. */
export interface ConfigKey {
  readonly section: SectionId;
  readonly key: string;
}

export const keyText = (k: ConfigKey) => (k.section.label === undefined ? `${k.section.name}.${k.key}` : `${k.section.name}.${k.section.label}.${k.key}`);

const KNOWN_KEYS = Object.entries(CONFIG_SECTIONS).flatMap(([name, spec]) =>
  Object.keys(spec.keys).map((key) => (spec.named ? `${name}.<name>.${key}` : `${name}.${key}`)),
);

/** Why `key` is not one `.mlops/config` accepts (with a did-you-mean), or undefined when it is. */
function keyProblem(k: ConfigKey): string | undefined {
  const spec = CONFIG_SECTIONS[k.section.name];
  const named = spec?.named ?? false;
  if (spec && named === (k.section.label !== undefined) && Object.hasOwn(spec.keys, k.key)) return undefined;
  const hint = didYouMean(keyText(k), KNOWN_KEYS);
  return `unknown config key${hint ? ` (did you mean '${hint}'?)` : ` (known: ${KNOWN_KEYS.join(', ')})`}`;
}

/** `cache.dir` -> {cache, dir}; `remote.name.url` -> {remote "name", url}. */
export function parseKey(text: string): ConfigKey {
  const parts = text.split('.');
  if (parts.length < 2 || parts.some((p) => p === '')) throw new UsageError(`'${text}': expected a key of the form section.key`);
  const key = parts.at(-1)!;
  if (parts.length === 2) return { section: { name: parts[0]! }, key };
  return { section: { name: parts[0]!, label: parts.slice(1, -1).join('.') }, key };
}

/** One value and where it is set. */
export interface ConfigValue {
  readonly key: string;
  readonly value: string;
  /** The config file's absolute path. */
  readonly path: string;
  readonly line: number;
}

/** A ConfigError pointing at the line that set `value`. */
export function valueError(value: ConfigValue, detail: string): ConfigError {
  return new ConfigError(detail, { file: displayPath(value.path), line: value.line, key: value.key });
}

export const configPath = (root: string, level: ConfigLevel) => join(root, MLOPS_DIR, FILE_NAME[level]);

export function readDocument(path: string): IniDocument | undefined {
  if (!existsSync(path)) return undefined;
  const { file, text } = readText(path);
  return IniDocument.parse(text, file);
}

const toValue = (path: string) => (e: IniEntry): ConfigValue => ({ key: keyText(e), value: e.value, path, line: e.line });

/** `.mlops/config` with `.mlops/config.local` over it, checked against CONFIG_SECTIONS when read. */
export class ProjectConfig {
  private constructor(
    private readonly values: ReadonlyMap<string, ConfigValue>,
    /** `cache.dir` from `.dvc/config(.local)`, in a DVC repository. */
    readonly dvcCacheDir: ConfigValue | undefined,
  ) {}

  /** Reads the given levels (default both; later ones override earlier ones). */
  static read(root: string, levels: readonly ConfigLevel[] = ['repo', 'local']): ProjectConfig {
    const values = new Map<string, ConfigValue>();
    for (const level of levels) {
      const path = configPath(root, level);
      for (const entry of readDocument(path)?.entries() ?? []) {
        const value = toValue(path)(entry);
        const problem = keyProblem(entry);
        if (problem) throw valueError(value, problem);
        if (value.value === '') throw valueError(value, 'expected a value');
        values.set(value.key, value);
      }
    }
    return new ProjectConfig(values, dvcCacheDir(root));
  }

  get(key: string): ConfigValue | undefined {
    return this.values.get(key);
  }

  /** Every value set, local overrides applied, in key order. */
  list(): ConfigValue[] {
    return [...this.values.values()].sort((a, b) => a.key.localeCompare(b.key));
  }
}

function dvcCacheDir(root: string): ConfigValue | undefined {
  let found: ConfigValue | undefined;
  for (const name of ['config', 'config.local']) {
    const path = join(root, '.dvc', name);
    const entry = readDocument(path)?.entries().find((e) => e.section.name === 'cache' && e.section.label === undefined && e.key === 'dir');
    if (entry) found = toValue(path)(entry);
  }
  return found;
}

/** The folder a config value's relative path is taken from: the config file's own (DVC's rule). */
export const configBase = (value: ConfigValue) => dirname(value.path);

/**
 * `mlops config KEY VALUE` / `--unset`: edits one file in place (other lines kept), written
 * temp-file-and-rename. The key must be a known one; the file must exist or `.mlops/` must.
 */
export async function setConfig(root: string, level: ConfigLevel, text: string, value: string | undefined): Promise<void> {
  const key = parseKey(text);
  const path = configPath(root, level);
  if (!existsSync(dirname(path))) throw new NotFoundError(`no ${MLOPS_DIR}/ in ${displayPath(root) || '.'}: run 'mlops init' first`);
  const doc = readDocument(path) ?? IniDocument.empty();
  if (value === undefined) {
    if (!doc.unset(key.section, key.key)) throw new NotFoundError(`${displayPath(path)}: '${text}' is not set`);
  } else {
    const problem = keyProblem(key);
    if (problem) throw new UsageError(`'${text}': ${problem}`);
    if (value === '') throw new UsageError(`'${text}': expected a value`);
    doc.set(key.section, key.key, value);
  }
  await writeFileAtomic(path, doc.toString());
}
