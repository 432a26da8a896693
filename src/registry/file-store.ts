import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { ConfigError } from '../core/errors.js';
import { readText } from '../core/files.js';
import { acquireRepoLock } from '../pipeline/repo-lock.js';
import { emitMeta, readMeta } from '../tracking/meta-yaml.js';
import { UnknownAliasError, UnknownModelError, UnknownVersionError } from './errors.js';
import { checkAlias, checkModelName } from './names.js';
import {
  VERSION_STATUS_READY,
  type AliasChange,
  type HistoryEvent,
  type ModelRegistry,
  type ModelSnapshot,
  type ModelVersion,
  type NewVersion,
  type RegisteredModel,
  type VersionSnapshot,
} from './store.js';
import { checkSameContent, mergeHistory } from './snapshot.js';
import { ExclusiveSections } from './exclusive.js';
import { parseRecord, STAGE_DELETED, STAGE_NONE, versionRecord } from './record.js';

// The registry in MLflow's FileStore layout under the tracking folder, so MLflow's tools list the
// models, versions and aliases:
//   models/NAME/meta.yaml              name, description, timestamps, aliases (as MLflow saves them)
//   models/NAME/aliases/ALIAS          the version number, as text
//   models/NAME/version-N/meta.yaml    MLflow's model-version fields
// and, beside them, what MLflow has no field for (files MLflow's reader never looks at):
//   models/NAME/version-N/mlops-version.json   content, files, metrics, lineage (never changed)
//   models/NAME/mlops-history.json             every alias move
// A new model or version is built in a scratch folder and renamed into place, so a reader never sees
// half of one; every file is written temp-file-and-rename.

const META = 'meta.yaml';
const ALIASES = 'aliases';
const OURS = 'mlops-version.json';
const HISTORY = 'mlops-history.json';
const LOCK = 'mlops-registry.lock';
const VERSION_DIR = /^version-([1-9]\d*)$/;

export class FileModelRegistry implements ModelRegistry {
  readonly modelsDir: string;
  private readonly sections = new ExclusiveSections(() => acquireRepoLock(this.modelsDir, () => {}, LOCK));

  /** `trackingDir`: the mlruns folder; the registry lives in its `models/` folder, as MLflow's does. */
  constructor(readonly trackingDir: string) {
    this.modelsDir = join(trackingDir, 'models');
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.sections.run(fn);
  }

  async listModels(): Promise<RegisteredModel[]> {
    if (!existsSync(this.modelsDir)) return [];
    const names = readdirSync(this.modelsDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && existsSync(join(this.modelsDir, e.name, META)))
      .map((e) => e.name)
      .sort();
    return Promise.all(names.map((n) => this.getModel(n)));
  }

  async getModel(name: string): Promise<RegisteredModel> {
    const meta = this.readModelMeta(name);
    const versions = this.versionNumbers(name).filter((v) => !this.isDeleted(name, v));
    return {
      name,
      description: (meta.description as string | null) ?? null,
      creation_timestamp: meta.creation_timestamp as number,
      last_updated_timestamp: meta.last_updated_timestamp as number,
      latest_version: versions.length ? Math.max(...versions) : null,
      aliases: this.aliases(name),
    };
  }

  async createVersion(name: string, input: NewVersion): Promise<{ version: ModelVersion; created: boolean }> {
    checkModelName(name);
    return this.exclusive(async () => {
      const now = Date.now();
      if (!existsSync(join(this.modelDir(name), META))) await this.createModel(name, now);
      const same = (await this.listVersions(name)).find((v) => v.content === input.content);
      if (same) return { version: same, created: false };
      const version = Math.max(0, ...this.versionNumbers(name)) + 1;
      const record = versionRecord(input);
      const meta = this.versionMeta(name, version, { ...input, run_id: input.lineage.run_id, description: input.description ?? null }, now, STAGE_NONE);
      await this.placeFolder(join(this.modelDir(name), `version-${version}`), {
        [OURS]: JSON.stringify(record, null, 2) + '\n',
        [META]: emitMeta(meta),
      });
      await this.touchModel(name, now);
      return { version: await this.getVersion(name, version), created: true };
    });
  }

  async listVersions(name: string): Promise<ModelVersion[]> {
    this.readModelMeta(name);
    const live = this.versionNumbers(name).filter((v) => !this.isDeleted(name, v));
    return Promise.all(live.sort((a, b) => a - b).map((v) => this.getVersion(name, v)));
  }

  async getVersion(name: string, version: number): Promise<ModelVersion> {
    this.readModelMeta(name);
    const found = this.readVersion(name, version);
    if (!found || found.deleted) throw new UnknownVersionError(name, version);
    const { deleted: _, ...fields } = found;
    const aliases = Object.entries(this.aliases(name))
      .filter(([, v]) => v === version)
      .map(([a]) => a);
    return { ...fields, aliases };
  }

  /** A version's folder read, deleted or not; undefined when there is none. */
  private readVersion(name: string, version: number): VersionSnapshot | undefined {
    const dir = join(this.modelDir(name), `version-${version}`);
    if (!existsSync(join(dir, META))) return undefined;
    const meta = readRegistryFile(join(dir, META), readMeta);
    const record = readRegistryFile(join(dir, OURS), parseRecord);
    return {
      name,
      version,
      status: String(meta.status),
      source: String(meta.source),
      run_id: (meta.run_id as string | null) ?? null,
      description: (meta.description as string | null) ?? null,
      creation_timestamp: meta.creation_timestamp as number,
      user_id: String(meta.user_id ?? ''),
      content: record.content,
      files: record.files,
      metrics: record.metrics,
      lineage: record.lineage,
      deleted: meta.current_stage === STAGE_DELETED,
    };
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    checkAlias(alias);
    this.readModelMeta(name);
    const version = this.aliases(name)[alias];
    if (version === undefined) throw new UnknownAliasError(name, alias);
    return this.getVersion(name, version);
  }

  async setDescription(name: string, version: number | null, text: string): Promise<void> {
    await this.exclusive(async () => {
      const now = Date.now();
      if (version !== null) {
        await this.getVersion(name, version);
        await this.updateVersionMeta(name, version, { description: text, last_updated_timestamp: now });
      }
      await this.touchModel(name, now, version === null ? { description: text } : {});
    });
  }

  async setAlias(name: string, alias: string, version: number, change: AliasChange): Promise<void> {
    checkAlias(alias);
    await this.exclusive(async () => {
      await this.getVersion(name, version);
      const from = this.aliases(name)[alias] ?? null;
      await writeFileAtomic(join(this.modelDir(name), ALIASES, alias), String(version));
      await this.record(name, { ...change, alias, from, to: version });
    });
  }

  async deleteAlias(name: string, alias: string, change: AliasChange): Promise<void> {
    checkAlias(alias);
    await this.exclusive(async () => {
      this.readModelMeta(name);
      const from = this.aliases(name)[alias];
      if (from === undefined) throw new UnknownAliasError(name, alias);
      await rm(join(this.modelDir(name), ALIASES, alias));
      await this.record(name, { ...change, alias, from, to: null });
    });
  }

  async deleteVersion(name: string, version: number, change: AliasChange): Promise<void> {
    await this.exclusive(async () => {
      const held = (await this.getVersion(name, version)).aliases;
      for (const alias of held) await this.deleteAlias(name, alias, change);
      await this.updateVersionMeta(name, version, { current_stage: STAGE_DELETED, last_updated_timestamp: Date.now() });
      await this.touchModel(name, Date.now());
    });
  }

  async deleteModel(name: string): Promise<void> {
    await this.exclusive(async () => {
      this.readModelMeta(name);
      // Renamed aside first, so the model vanishes in one step even if removing its files is interrupted.
      const aside = this.scratchName();
      await mkdir(join(aside, '..'), { recursive: true });
      await rename(this.modelDir(name), aside);
      await rm(aside, { recursive: true, force: true });
    });
  }

  async history(name: string): Promise<HistoryEvent[]> {
    this.readModelMeta(name);
    const file = join(this.modelDir(name), HISTORY);
    if (!existsSync(file)) return [];
    return readRegistryFile(file, (text) => (JSON.parse(text) as { events: HistoryEvent[] }).events);
  }

  async exportModel(name: string): Promise<ModelSnapshot> {
    const model = await this.getModel(name);
    const versions = this.versionNumbers(name).sort((a, b) => a - b).map((v) => this.readVersion(name, v)!);
    return {
      name,
      description: model.description,
      creation_timestamp: model.creation_timestamp,
      last_updated_timestamp: model.last_updated_timestamp,
      versions,
      aliases: model.aliases,
      history: await this.history(name),
    };
  }

  async importModel(snapshot: ModelSnapshot): Promise<void> {
    const { name } = snapshot;
    checkModelName(name);
    await this.exclusive(async () => {
      const exists = existsSync(join(this.modelDir(name), META));
      // Every conflict before any write: a refused snapshot leaves the model as it was.
      if (exists) for (const v of snapshot.versions) {
        const held = this.readVersion(name, v.version);
        if (held) checkSameContent(name, held, v);
      }
      if (!exists) await this.createModel(name, snapshot.creation_timestamp);
      for (const v of snapshot.versions) {
        const held = exists ? this.readVersion(name, v.version) : undefined;
        if (held) {
          if (held.description !== v.description || held.deleted !== v.deleted) {
            await this.updateVersionMeta(name, v.version, { description: v.description, current_stage: v.deleted ? STAGE_DELETED : STAGE_NONE });
          }
          continue;
        }
        const record = versionRecord(v);
        await this.placeFolder(join(this.modelDir(name), `version-${v.version}`), {
          [OURS]: JSON.stringify(record, null, 2) + '\n',
          [META]: emitMeta(this.versionMeta(name, v.version, { ...v, user: v.user_id }, v.creation_timestamp, v.deleted ? STAGE_DELETED : STAGE_NONE)),
        });
      }
      const held = this.aliases(name);
      for (const [alias, version] of Object.entries(snapshot.aliases)) {
        if (held[alias] !== version) await writeFileAtomic(join(this.modelDir(name), ALIASES, checkAlias(alias)), String(version));
      }
      const history = mergeHistory(await this.history(name), snapshot.history);
      await writeFileAtomic(join(this.modelDir(name), HISTORY), JSON.stringify({ events: history }, null, 2) + '\n');
      await writeFileAtomic(join(this.modelDir(name), META), emitModelMeta({
        name,
        description: snapshot.description,
        creation_timestamp: snapshot.creation_timestamp,
        last_updated_timestamp: snapshot.last_updated_timestamp,
      }, this.aliases(name)));
    });
  }

  private modelDir(name: string): string {
    return join(this.modelsDir, checkModelName(name));
  }

  private readModelMeta(name: string): Record<string, unknown> {
    const file = join(this.modelDir(name), META);
    if (!existsSync(file)) throw new UnknownModelError(name);
    return readRegistryFile(file, readMeta);
  }

  private versionNumbers(name: string): number[] {
    const dir = this.modelDir(name);
    return readdirSync(dir)
      .map((e) => VERSION_DIR.exec(e))
      .filter((m): m is RegExpExecArray => m !== null && existsSync(join(dir, m[0], META)))
      .map((m) => Number(m[1]));
  }

  /** A version's meta.yaml fields, as MLflow writes them. */
  private versionMeta(name: string, version: number, v: { source: string; run_id: string | null; description: string | null; user: string }, time: number, stage: string) {
    return {
      aliases: [] as never[],
      creation_timestamp: time,
      current_stage: stage,
      description: v.description,
      last_updated_timestamp: time,
      name,
      run_id: v.run_id,
      run_link: null,
      source: v.source,
      status: VERSION_STATUS_READY,
      status_message: null,
      storage_location: null,
      user_id: v.user,
      version,
    };
  }

  private isDeleted(name: string, version: number): boolean {
    const meta = readRegistryFile(join(this.modelDir(name), `version-${version}`, META), readMeta);
    return meta.current_stage === STAGE_DELETED;
  }

  /** Alias -> version, from the alias files (MLflow's source of truth, not meta.yaml's copy). */
  private aliases(name: string): Record<string, number> {
    const dir = join(this.modelDir(name), ALIASES);
    if (!existsSync(dir)) return {};
    const out: Record<string, number> = {};
    for (const alias of readdirSync(dir).filter((a) => !a.includes('.tmp-')).sort()) {
      out[alias] = readRegistryFile(join(dir, alias), versionText);
    }
    return out;
  }

  private async createModel(name: string, now: number): Promise<void> {
    await this.placeFolder(this.modelDir(name), {
      [META]: emitModelMeta({ name, description: null, creation_timestamp: now, last_updated_timestamp: now }, {}),
    });
  }

  /** Rewrites the model's meta.yaml with a new update time (and description), as MLflow does on every change. */
  private async touchModel(name: string, now: number, changes: { description?: string } = {}): Promise<void> {
    const meta = this.readModelMeta(name);
    const fields = {
      name,
      description: changes.description ?? (meta.description as string | null) ?? null,
      creation_timestamp: meta.creation_timestamp as number,
      last_updated_timestamp: now,
    };
    await writeFileAtomic(join(this.modelDir(name), META), emitModelMeta(fields, this.aliases(name)));
  }

  private async updateVersionMeta(name: string, version: number, changes: Record<string, string | number | null>): Promise<void> {
    const file = join(this.modelDir(name), `version-${version}`, META);
    const meta = readRegistryFile(file, readMeta) as Record<string, string | number | null>;
    await writeFileAtomic(file, emitMeta({ ...meta, ...changes, aliases: [] }));
  }

  private async record(name: string, event: Omit<HistoryEvent, 'time'>): Promise<void> {
    const events = await this.history(name);
    events.push({ time: new Date().toISOString(), ...event });
    await writeFileAtomic(join(this.modelDir(name), HISTORY), JSON.stringify({ events }, null, 2) + '\n');
    await this.touchModel(name, Date.now());
  }

  /**
   * A folder name in the tracking folder's `.trash` (MLflow's own, which its readers skip): MLflow lists
   * every folder under models/ as a model, so half-built and half-removed ones must not sit there.
   */
  private scratchName(): string {
    return join(this.trackingDir, '.trash', `mlops-${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  /** Writes `files` into a scratch folder and renames it to `dest`. */
  private async placeFolder(dest: string, files: Record<string, string>): Promise<void> {
    const temp = this.scratchName();
    await mkdir(temp, { recursive: true });
    try {
      for (const [file, text] of Object.entries(files)) await writeFileAtomic(join(temp, file), text);
      await rename(temp, dest);
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
  }
}

/**
 * The registered model's meta.yaml as MLflow saves it: its scalar fields plus `aliases`, a mapping of
 * alias -> version text (MLflow reads the alias files; this copy is what it writes alongside).
 */
function emitModelMeta(fields: { name: string; description: string | null; creation_timestamp: number; last_updated_timestamp: number }, aliases: Record<string, number>): string {
  const entries = Object.entries(aliases);
  const block = entries.length
    ? 'aliases:\n' + emitMeta(Object.fromEntries(entries.map(([a, v]) => [a, String(v)]))).replace(/^/gm, '  ').trimEnd() + '\n'
    : 'aliases: {}\n';
  return block + emitMeta(fields);
}

/** A registry file parsed; a damaged one is one error naming it (exit 2), not a crash. */
function readRegistryFile<T>(path: string, parse: (text: string) => T): T {
  const { file, text } = readText(path);
  try {
    return parse(text);
  } catch (error) {
    throw new ConfigError(`damaged registry file (${(error as Error).message})`, { file });
  }
}

/** An alias file's text: the version number, as MLflow writes it. */
function versionText(text: string): number {
  if (!/^[1-9]\d*$/.test(text.trim())) throw new Error(`expected a version number, found ${JSON.stringify(text.slice(0, 20))}`);
  return Number(text.trim());
}
