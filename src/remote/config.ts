import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { displayPath } from '../core/display.js';
import { ConfigError, ConflictError, didYouMean, NotFoundError, UsageError } from '../core/errors.js';
import { CONFIG_SECTIONS, configPath, keyText, readDocument, valueError, type ConfigLevel, type ConfigValue } from '../project/config.js';
import { IniDocument, type SectionId } from '../project/ini.js';
import type { Project } from '../project/project.js';

// Remotes as DVC configures them: `['remote "name"']` sections with `url` and DVC's keys, the default in
// `core.remote`. In a DVC repository they live in `.dvc/config` (and `.dvc/config.local`), where `dvc`
// reads them too; elsewhere in `.mlops/config(.local)`. Both are read, the later file overriding.

export const REMOTE_KEYS = Object.keys(CONFIG_SECTIONS.remote!.keys);
/** Secrets: `remote add/modify` write them to the git-ignored local file. */
const CREDENTIAL_KEYS = new Set(['access_key_id', 'secret_access_key', 'session_token']);

/** One configured remote: its keys, each with the file and line that set it. */
export interface RemoteConfig {
  readonly name: string;
  readonly values: ReadonlyMap<string, ConfigValue>;
}

/** Where a remote points: a bucket (and key prefix) or a folder. */
export type RemoteUrl = { scheme: 's3'; bucket: string; prefix: string } | { scheme: 'local'; path: string };

/** Every config file remotes are read from, lowest precedence first. */
function remoteFiles(project: Pick<Project, 'root' | 'isDvcRepo'>): string[] {
  const dvc = project.isDvcRepo ? ['config', 'config.local'].map((n) => join(project.root, '.dvc', n)) : [];
  return [...dvc, configPath(project.root, 'repo'), configPath(project.root, 'local')];
}

/** The file `remote add/modify/remove/default` write: DVC's config in a DVC repository, so `dvc` sees the remote. */
function writeTarget(project: Pick<Project, 'root' | 'isDvcRepo'>, level: ConfigLevel): string {
  if (project.isDvcRepo) return join(project.root, '.dvc', level === 'local' ? 'config.local' : 'config');
  return configPath(project.root, level);
}

/** The remotes of the project, and the default one's name (`core.remote`) with where it is set. */
export function readRemotes(project: Pick<Project, 'root' | 'isDvcRepo'>): { remotes: Map<string, RemoteConfig>; default?: ConfigValue } {
  const values = new Map<string, Map<string, ConfigValue>>();
  let fallback: ConfigValue | undefined;
  for (const path of remoteFiles(project)) {
    for (const e of readDocument(path)?.entries() ?? []) {
      const value: ConfigValue = { key: keyText(e), value: e.value, path, line: e.line };
      if (e.section.name === 'core' && e.section.label === undefined && e.key === 'remote') fallback = value;
      if (e.section.name !== 'remote' || e.section.label === undefined) continue;
      const remote = values.get(e.section.label) ?? new Map<string, ConfigValue>();
      remote.set(e.key, value);
      values.set(e.section.label, remote);
    }
  }
  const remotes = new Map([...values].map(([name, v]) => [name, { name, values: v }]));
  return { remotes, ...(fallback ? { default: fallback } : {}) };
}

/** The remote named `name`, or the default one; a clear error when there is none. */
export function findRemote(project: Pick<Project, 'root' | 'isDvcRepo'>, name?: string): RemoteConfig {
  const { remotes, default: fallback } = readRemotes(project);
  const wanted = name ?? fallback?.value;
  if (wanted === undefined) {
    throw new UsageError(
      remotes.size
        ? `no default remote: pass -r NAME (one of ${[...remotes.keys()].join(', ')}) or set one with 'mlops remote default NAME'`
        : "no remote configured: add one with 'mlops remote add -d NAME URL'",
    );
  }
  const remote = remotes.get(wanted);
  if (!remote) {
    const hint = didYouMean(wanted, [...remotes.keys()]);
    const detail = `unknown remote '${wanted}'${hint ? ` (did you mean '${hint}'?)` : remotes.size ? ` (known: ${[...remotes.keys()].join(', ')})` : ''}`;
    if (name === undefined && fallback) throw valueError(fallback, detail);
    throw new NotFoundError(detail);
  }
  if (!remote.values.get('url')) throw new ConfigError(`remote '${wanted}' has no url`, { file: displayPath(remoteFiles(project)[0]!) });
  return remote;
}

/** Parses a remote URL: `s3://bucket/prefix`, or a folder (relative ones from `base`). */
export function parseRemoteUrl(url: string, base: string): RemoteUrl | string {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return { scheme: 'local', path: resolve(base, url) };
  if (scheme === 'file') return { scheme: 'local', path: resolve(base, decodeURIComponent(url.slice('file://'.length))) };
  if (scheme !== 's3') return `unsupported remote '${url}' (supported: s3://bucket/prefix, or a local or mounted folder)`;
  const rest = url.slice('s3://'.length);
  const bucket = rest.split('/')[0]!;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) return `'${url}': '${bucket}' is not a valid S3 bucket name`;
  const path = rest.slice(bucket.length + 1).replace(/^\/+|\/+$/g, '');
  return { scheme: 's3', bucket, prefix: path ? `${path}/` : '' };
}

/** The remote's URL, checked, with a located error for a bad one. */
export function remoteUrl(remote: RemoteConfig): RemoteUrl {
  const url = remote.values.get('url')!;
  const parsed = parseRemoteUrl(url.value, dirname(url.path));
  if (typeof parsed === 'string') throw valueError(url, parsed);
  return parsed;
}

/** A boolean key (`use_ssl`, `ssl_verify`) as configobj reads it. */
export function booleanValue(remote: RemoteConfig, key: string): boolean | undefined {
  const v = remote.values.get(key);
  if (!v) return undefined;
  const text = v.value.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(text)) return true;
  if (['false', 'no', 'off', '0'].includes(text)) return false;
  throw valueError(v, `expected true or false, got '${v.value}'`);
}

/** `jobs`, when set: a whole number >= 1. */
export function jobsValue(remote: RemoteConfig): number | undefined {
  const v = remote.values.get('jobs');
  if (!v) return undefined;
  const n = Number(v.value);
  if (!Number.isInteger(n) || n < 1) throw valueError(v, `expected a whole number >= 1, got '${v.value}'`);
  return n;
}

// --- edits: each rewrites one file temp-file-and-rename, keeping its comments and other sections ---

async function edit(path: string, change: (doc: IniDocument) => void): Promise<void> {
  if (!existsSync(dirname(path))) throw new NotFoundError(`no ${displayPath(dirname(path))}/: run 'mlops init' first`);
  const doc = readDocument(path) ?? IniDocument.empty();
  change(doc);
  await writeFileAtomic(path, doc.toString());
}

const section = (name: string): SectionId => ({ name: 'remote', label: name });

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_][\w.-]*$/.test(name)) throw new UsageError(`'${name}' is not a valid remote name (letters, digits, '_', '-', '.')`);
}

/** The URL as stored: a relative folder is rewritten relative to the config file's folder (DVC does the same). */
function storedUrl(url: string, cwd: string, file: string): string {
  const parsed = parseRemoteUrl(url, cwd);
  if (typeof parsed === 'string') throw new UsageError(parsed);
  if (parsed.scheme !== 'local' || isAbsolute(url) || /^file:/.test(url)) return url;
  return relative(dirname(file), parsed.path) || '.';
}

export interface AddOptions {
  readonly makeDefault?: boolean;
  readonly local?: boolean;
  readonly force?: boolean;
}

/** `mlops remote add [-d] [-f] [--local] NAME URL`. */
export async function addRemote(project: Project, name: string, url: string, { makeDefault, local, force }: AddOptions = {}): Promise<void> {
  checkName(name);
  if (readRemotes(project).remotes.has(name) && !force) throw new ConflictError(`remote '${name}' already exists: use -f to overwrite it`);
  const file = writeTarget(project, local ? 'local' : 'repo');
  const stored = storedUrl(url, project.cwd, file);
  await edit(file, (doc) => {
    for (const key of REMOTE_KEYS) doc.unset(section(name), key);
    doc.set(section(name), 'url', stored);
    if (makeDefault) doc.set({ name: 'core' }, 'remote', name);
  });
}

/** `mlops remote modify [--local] [-u] NAME KEY [VALUE]`; credentials always go to the local file. Returns the file written. */
export async function modifyRemote(project: Project, name: string, key: string, value: string | undefined, { local }: { local?: boolean } = {}): Promise<string> {
  if (!readRemotes(project).remotes.has(name)) throw new NotFoundError(`unknown remote '${name}'`);
  if (!REMOTE_KEYS.includes(key)) {
    const hint = didYouMean(key, REMOTE_KEYS);
    throw new UsageError(`'${key}' is not a remote setting${hint ? ` (did you mean '${hint}'?)` : ` (known: ${REMOTE_KEYS.join(', ')})`}`);
  }
  const file = writeTarget(project, local || CREDENTIAL_KEYS.has(key) ? 'local' : 'repo');
  if (value === undefined) {
    let found = false;
    for (const path of [writeTarget(project, 'repo'), writeTarget(project, 'local')]) {
      if (readDocument(path)?.entries().some((e) => e.section.label === name && e.section.name === 'remote' && e.key === key)) {
        await edit(path, (doc) => void doc.unset(section(name), key));
        found = true;
      }
    }
    if (!found) throw new NotFoundError(`remote '${name}' has no '${key}' set`);
    return file;
  }
  if (value === '') throw new UsageError(`'${key}': expected a value`);
  await edit(file, (doc) => doc.set(section(name), key, key === 'url' ? storedUrl(value, project.cwd, file) : value));
  return file;
}

/** `mlops remote remove NAME`: its sections in every file, and `core.remote` when it was the default. */
export async function removeRemote(project: Project, name: string): Promise<void> {
  if (!readRemotes(project).remotes.has(name)) throw new NotFoundError(`unknown remote '${name}'`);
  for (const path of remoteFiles(project)) {
    const entries = readDocument(path)?.entries() ?? [];
    const own = entries.filter((e) => e.section.name === 'remote' && e.section.label === name);
    const isDefault = entries.some((e) => e.section.name === 'core' && e.section.label === undefined && e.key === 'remote' && e.value === name);
    if (!own.length && !isDefault) continue;
    await edit(path, (doc) => {
      for (const e of own) doc.unset(e.section, e.key);
      if (isDefault) doc.unset({ name: 'core' }, 'remote');
    });
  }
}

/** `mlops remote default [NAME]` / `--unset`. */
export async function setDefaultRemote(project: Project, name: string | undefined, { local }: { local?: boolean } = {}): Promise<void> {
  const file = writeTarget(project, local ? 'local' : 'repo');
  if (name === undefined) {
    await edit(file, (doc) => {
      if (!doc.unset({ name: 'core' }, 'remote')) throw new NotFoundError(`${displayPath(file)}: no default remote is set`);
    });
    return;
  }
  if (!readRemotes(project).remotes.has(name)) throw new NotFoundError(`unknown remote '${name}'`);
  await edit(file, (doc) => doc.set({ name: 'core' }, 'remote', name));
}

