import { basename, dirname } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { acquireRepoLock } from '../pipeline/repo-lock.js';
import type { Database, Queryable, SqlValue } from '../sql/database.js';
import { parseDatabaseUri } from '../sql/uri.js';
import { UnknownAliasError, UnknownModelError, UnknownVersionError } from './errors.js';
import { ExclusiveSections, type HeldLock } from './exclusive.js';
import { checkAlias, checkModelName } from './names.js';
import { parseRecord, STAGE_DELETED, STAGE_NONE, versionRecord } from './record.js';
import { checkSameContent, mergeHistory } from './snapshot.js';
import {
  VERSION_STATUS_READY,
  type AliasChange, type HistoryEvent, type ModelRegistry, type ModelSnapshot, type ModelVersion,
  type NewVersion, type RegisteredModel, type VersionSnapshot,
} from './store.js';

// The registry in MLflow's own tables (registered_models, model_versions, registered_model_aliases,
// registered_model_tags, model_version_tags), on SQLite or PostgreSQL: `mlflow ui` lists the models,
// versions and aliases. What MLflow has no column for is kept in tags, where MLflow shows it and its
// own tools copy it along:
//   model_version_tags     `mlops.version`            the version's record: content, files, metrics, lineage
//   registered_model_tags  `mlops.history.000001`...  one alias move each, as JSON, numbered in order
// The history is kept on the model, not on versions: a move names two versions (or none, when an alias
// is deleted), outlives deleted versions, and is read whole by `models history`. Tag values are
// VARCHAR(5000) in MLflow's schema, so a longer value (a big gate report) continues in `KEY.part2`,
// `KEY.part3`, ... Every change is one transaction.

const RECORD_TAG = 'mlops.version';
const HISTORY_TAG = 'mlops.history.';
const TAG_VALUE_LIMIT = 5000;
const PART = '.part';
// Any constant: the key of the PostgreSQL advisory lock that `exclusive` holds.
const EXCLUSIVE_LOCK_KEY = 0x6d6c6f70;

interface ModelRow {
  name: string;
  creation_time: number | null;
  last_updated_time: number | null;
  description: string | null;
}

interface VersionRow {
  version: number;
  creation_time: number | null;
  description: string | null;
  user_id: string | null;
  current_stage: string | null;
  source: string | null;
  run_id: string | null;
  status: string | null;
}

/** `value` in pieces that fit a tag, keyed `key`, `key.part2`, ... */
function tagParts(key: string, value: string): [string, string][] {
  const parts: [string, string][] = [];
  for (let i = 0; i === 0 || i * TAG_VALUE_LIMIT < value.length; i++) {
    parts.push([i === 0 ? key : `${key}${PART}${i + 1}`, value.slice(i * TAG_VALUE_LIMIT, (i + 1) * TAG_VALUE_LIMIT)]);
  }
  return parts;
}

/** Tag rows joined back into values by their key (`key.partN` rows appended in order). */
function joinParts(rows: readonly { key: string; value: string | null }[]): Map<string, string> {
  const pieces = new Map<string, string[]>();
  for (const { key, value } of rows) {
    const at = key.lastIndexOf(PART);
    const n = at >= 0 && /^\d+$/.test(key.slice(at + PART.length)) ? Number(key.slice(at + PART.length)) : 1;
    const base = n > 1 ? key.slice(0, at) : key;
    const list = pieces.get(base) ?? [];
    list[n - 1] = value ?? '';
    pieces.set(base, list);
  }
  return new Map([...pieces].map(([k, list]) => [k, list.join('')]));
}

const historyKey = (n: number) => `${HISTORY_TAG}${String(n).padStart(6, '0')}`;

export class SqlModelRegistry implements ModelRegistry {
  private readonly sections: ExclusiveSections;

  constructor(
    private readonly db: Database,
    /** The project root: a relative SQLite path is taken from it (for the lock file beside it). */
    root: string,
  ) {
    this.sections = new ExclusiveSections(() => this.lock(root));
  }

  /**
   * Across processes: PostgreSQL's advisory lock, held by a transaction kept open for the section;
   * for SQLite a lock file beside the database (a transaction there would hold up this process's own
   * statements, which SQLite runs one at a time).
   */
  private async lock(root: string): Promise<HeldLock> {
    if (this.db.dialect === 'sqlite') {
      const location = parseDatabaseUri(this.db.uri, root);
      if (location.dialect !== 'sqlite' || location.path === ':memory:') return { release: () => {} };
      return acquireRepoLock(dirname(location.path), () => {}, `${basename(location.path)}.mlops-registry.lock`);
    }
    return new Promise<HeldLock>((acquired, failed) => {
      let release!: () => void;
      const released = new Promise<void>((done) => (release = done));
      const held = this.db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(?)', [EXCLUSIVE_LOCK_KEY]);
        acquired({ release: async () => { release(); await held; } });
        await released;
      });
      held.catch(failed);
    });
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.sections.run(fn);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  // ---- reading

  async listModels(): Promise<RegisteredModel[]> {
    const rows = await this.db.query<{ name: string }>('SELECT name FROM registered_models ORDER BY name');
    const out: RegisteredModel[] = [];
    for (const { name } of rows) out.push(await this.getModel(name));
    return out;
  }

  async getModel(name: string): Promise<RegisteredModel> {
    return this.readModel(this.db, name);
  }

  private async readModel(q: Queryable, name: string): Promise<RegisteredModel> {
    const model = await this.modelRow(q, name);
    const [latest] = await q.query<{ latest: number | null }>(
      'SELECT MAX(version) AS latest FROM model_versions WHERE name = ? AND current_stage <> ?', [name, STAGE_DELETED]);
    return {
      name,
      description: model.description,
      creation_timestamp: model.creation_time ?? 0,
      last_updated_timestamp: model.last_updated_time ?? 0,
      latest_version: latest?.latest ?? null,
      aliases: await this.aliases(q, name),
    };
  }

  private async modelRow(q: Queryable, name: string): Promise<ModelRow> {
    const [row] = await q.query<ModelRow>('SELECT name, creation_time, last_updated_time, description FROM registered_models WHERE name = ?', [name]);
    if (!row) throw new UnknownModelError(name);
    return row;
  }

  private async aliases(q: Queryable, name: string): Promise<Record<string, number>> {
    const rows = await q.query<{ alias: string; version: number }>('SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias', [name]);
    return Object.fromEntries(rows.map((r) => [r.alias, Number(r.version)]));
  }

  /** Versions as stored, deleted ones too (all of them, or the one numbered `only`). */
  private async readVersions(q: Queryable, name: string, only?: number): Promise<VersionSnapshot[]> {
    const where = only === undefined ? '' : ' AND version = ?';
    const params: SqlValue[] = only === undefined ? [name] : [name, only];
    const rows = await q.query<VersionRow>(
      `SELECT version, creation_time, description, user_id, current_stage, source, run_id, status FROM model_versions WHERE name = ?${where} ORDER BY version`, params);
    const tags = await q.query<{ version: number; key: string; value: string | null }>(
      `SELECT version, key, value FROM model_version_tags WHERE name = ?${where} AND key LIKE ?`, [...params, `${RECORD_TAG}%`]);
    return rows.map((row) => {
      const version = Number(row.version);
      const text = joinParts(tags.filter((t) => Number(t.version) === version)).get(RECORD_TAG);
      let record;
      try {
        if (text === undefined) throw new Error(`no ${RECORD_TAG} tag`);
        record = parseRecord(text);
      } catch (error) {
        throw new ConfigError(`${this.db.shown}: model "${name}" version ${version}: damaged registry record (${(error as Error).message})`);
      }
      return {
        name,
        version,
        status: row.status ?? VERSION_STATUS_READY,
        source: row.source ?? '',
        run_id: row.run_id,
        description: row.description,
        creation_timestamp: Number(row.creation_time ?? 0),
        user_id: row.user_id ?? '',
        content: record.content,
        files: record.files,
        metrics: record.metrics,
        lineage: record.lineage,
        deleted: row.current_stage === STAGE_DELETED,
      };
    });
  }

  private async live(q: Queryable, name: string, version: number): Promise<ModelVersion> {
    await this.modelRow(q, name);
    const [found] = await this.readVersions(q, name, version);
    if (!found || found.deleted) throw new UnknownVersionError(name, version);
    const { deleted: _, ...fields } = found;
    const aliases = Object.entries(await this.aliases(q, name)).filter(([, v]) => v === version).map(([a]) => a);
    return { ...fields, aliases };
  }

  async listVersions(name: string): Promise<ModelVersion[]> {
    await this.modelRow(this.db, name);
    const aliases = Object.entries(await this.aliases(this.db, name));
    return (await this.readVersions(this.db, name))
      .filter((v) => !v.deleted)
      .map(({ deleted: _, ...v }) => ({ ...v, aliases: aliases.filter(([, n]) => n === v.version).map(([a]) => a) }));
  }

  getVersion(name: string, version: number): Promise<ModelVersion> {
    return this.live(this.db, name, version);
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    checkAlias(alias);
    await this.modelRow(this.db, name);
    const version = (await this.aliases(this.db, name))[alias];
    if (version === undefined) throw new UnknownAliasError(name, alias);
    return this.getVersion(name, version);
  }

  async history(name: string): Promise<HistoryEvent[]> {
    return this.readHistory(this.db, name);
  }

  private async readHistory(q: Queryable, name: string): Promise<HistoryEvent[]> {
    await this.modelRow(q, name);
    const rows = await q.query<{ key: string; value: string | null }>('SELECT key, value FROM registered_model_tags WHERE name = ? AND key LIKE ?', [name, `${HISTORY_TAG}%`]);
    return [...joinParts(rows)].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, text]) => {
      try {
        return JSON.parse(text) as HistoryEvent;
      } catch (error) {
        throw new ConfigError(`${this.db.shown}: model "${name}" tag ${key}: damaged history event (${(error as Error).message})`);
      }
    });
  }

  async exportModel(name: string): Promise<ModelSnapshot> {
    return this.db.transaction(async (q) => {
      const model = await this.readModel(q, name);
      return {
        name,
        description: model.description,
        creation_timestamp: model.creation_timestamp,
        last_updated_timestamp: model.last_updated_timestamp,
        versions: await this.readVersions(q, name),
        aliases: model.aliases,
        history: await this.readHistory(q, name),
      };
    });
  }

  // ---- writing: each change one transaction

  /** The model's row, locked for this transaction on PostgreSQL (SQLite's transactions are exclusive). */
  private async lockModel(q: Queryable, name: string): Promise<ModelRow> {
    const [row] = await q.query<ModelRow>(
      `SELECT name, creation_time, last_updated_time, description FROM registered_models WHERE name = ?${q.dialect === 'postgresql' ? ' FOR UPDATE' : ''}`, [name]);
    if (!row) throw new UnknownModelError(name);
    return row;
  }

  private async insertVersion(q: Queryable, name: string, v: Omit<VersionSnapshot, 'name'>, time: number): Promise<void> {
    await q.run(
      `INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, current_stage, source, run_id, status, status_message, run_link, storage_location)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)`,
      [name, v.version, v.creation_timestamp, time, v.description, v.user_id, v.deleted ? STAGE_DELETED : STAGE_NONE, v.source, v.run_id, v.status],
    );
    for (const [key, value] of tagParts(RECORD_TAG, JSON.stringify(versionRecord(v)))) {
      await q.run('INSERT INTO model_version_tags (key, value, name, version) VALUES (?, ?, ?, ?)', [key, value, name, v.version]);
    }
  }

  async createVersion(name: string, input: NewVersion): Promise<{ version: ModelVersion; created: boolean }> {
    checkModelName(name);
    return this.db.transaction(async (q) => {
      const now = Date.now();
      await q.run('INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?, ?, ?, NULL) ON CONFLICT (name) DO NOTHING', [name, now, now]);
      await this.lockModel(q, name);
      const versions = await this.readVersions(q, name);
      const same = versions.find((v) => !v.deleted && v.content === input.content);
      if (same) return { version: await this.live(q, name, same.version), created: false };
      const version = Math.max(0, ...versions.map((v) => v.version)) + 1;
      await this.insertVersion(q, name, {
        ...input, version, status: VERSION_STATUS_READY, run_id: input.lineage.run_id, description: input.description ?? null,
        creation_timestamp: now, user_id: input.user, deleted: false,
      }, now);
      await q.run('UPDATE registered_models SET last_updated_time = ? WHERE name = ?', [now, name]);
      return { version: await this.live(q, name, version), created: true };
    });
  }

  async setDescription(name: string, version: number | null, text: string): Promise<void> {
    await this.db.transaction(async (q) => {
      const now = Date.now();
      await this.lockModel(q, name);
      if (version === null) {
        await q.run('UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?', [text, now, name]);
        return;
      }
      await this.live(q, name, version);
      await q.run('UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND version = ?', [text, now, name, version]);
      await q.run('UPDATE registered_models SET last_updated_time = ? WHERE name = ?', [now, name]);
    });
  }

  /** Appends an alias move to the model's history and marks the model updated. */
  private async record(q: Queryable, name: string, event: Omit<HistoryEvent, 'time'>): Promise<void> {
    const keys = await q.query<{ key: string }>('SELECT key FROM registered_model_tags WHERE name = ? AND key LIKE ?', [name, `${HISTORY_TAG}%`]);
    const last = Math.max(0, ...keys.map((k) => Number(k.key.slice(HISTORY_TAG.length).split('.')[0])).filter(Number.isFinite));
    await this.writeEvent(q, name, last + 1, { time: new Date().toISOString(), ...event });
    await q.run('UPDATE registered_models SET last_updated_time = ? WHERE name = ?', [Date.now(), name]);
  }

  private async writeEvent(q: Queryable, name: string, n: number, event: HistoryEvent): Promise<void> {
    for (const [key, value] of tagParts(historyKey(n), JSON.stringify(event))) {
      await q.run('INSERT INTO registered_model_tags (key, value, name) VALUES (?, ?, ?)', [key, value, name]);
    }
  }

  async setAlias(name: string, alias: string, version: number, change: AliasChange): Promise<void> {
    checkAlias(alias);
    await this.db.transaction(async (q) => {
      await this.lockModel(q, name);
      await this.live(q, name, version);
      const from = (await this.aliases(q, name))[alias] ?? null;
      await q.run('DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?', [name, alias]);
      await q.run('INSERT INTO registered_model_aliases (alias, version, name) VALUES (?, ?, ?)', [alias, version, name]);
      await this.record(q, name, { ...change, alias, from, to: version });
    });
  }

  async deleteAlias(name: string, alias: string, change: AliasChange): Promise<void> {
    checkAlias(alias);
    await this.db.transaction(async (q) => {
      await this.lockModel(q, name);
      await this.removeAlias(q, name, alias, change);
    });
  }

  private async removeAlias(q: Queryable, name: string, alias: string, change: AliasChange): Promise<void> {
    const from = (await this.aliases(q, name))[alias];
    if (from === undefined) throw new UnknownAliasError(name, alias);
    await q.run('DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?', [name, alias]);
    await this.record(q, name, { ...change, alias, from, to: null });
  }

  async deleteVersion(name: string, version: number, change: AliasChange): Promise<void> {
    await this.db.transaction(async (q) => {
      await this.lockModel(q, name);
      const { aliases } = await this.live(q, name, version);
      for (const alias of aliases) await this.removeAlias(q, name, alias, change);
      const now = Date.now();
      await q.run('UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE name = ? AND version = ?', [STAGE_DELETED, now, name, version]);
      await q.run('UPDATE registered_models SET last_updated_time = ? WHERE name = ?', [now, name]);
    });
  }

  async deleteModel(name: string): Promise<void> {
    await this.db.transaction(async (q) => {
      await this.lockModel(q, name);
      for (const table of ['model_version_tags', 'registered_model_tags', 'registered_model_aliases', 'model_versions', 'registered_models']) {
        await q.run(`DELETE FROM ${table} WHERE name = ?`, [name]);
      }
    });
  }

  async importModel(snapshot: ModelSnapshot): Promise<void> {
    const { name } = snapshot;
    checkModelName(name);
    for (const alias of Object.keys(snapshot.aliases)) checkAlias(alias);
    await this.db.transaction(async (q) => {
      await q.run('INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?, ?, ?, NULL) ON CONFLICT (name) DO NOTHING',
        [name, snapshot.creation_timestamp, snapshot.last_updated_timestamp]);
      await this.lockModel(q, name);
      const held = new Map((await this.readVersions(q, name)).map((v) => [v.version, v]));
      // A conflict throws before anything is written; the transaction would undo it anyway.
      for (const v of snapshot.versions) if (held.has(v.version)) checkSameContent(name, held.get(v.version)!, v);
      for (const v of snapshot.versions) {
        const h = held.get(v.version);
        if (!h) await this.insertVersion(q, name, v, v.creation_timestamp);
        else if (h.description !== v.description || h.deleted !== v.deleted) {
          await q.run('UPDATE model_versions SET description = ?, current_stage = ? WHERE name = ? AND version = ?',
            [v.description, v.deleted ? STAGE_DELETED : STAGE_NONE, name, v.version]);
        }
      }
      for (const [alias, version] of Object.entries(snapshot.aliases)) {
        await q.run('DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?', [name, alias]);
        await q.run('INSERT INTO registered_model_aliases (alias, version, name) VALUES (?, ?, ?)', [alias, version, name]);
      }
      const history = mergeHistory(await this.readHistory(q, name), snapshot.history);
      await q.run('DELETE FROM registered_model_tags WHERE name = ? AND key LIKE ?', [name, `${HISTORY_TAG}%`]);
      for (const [i, event] of history.entries()) await this.writeEvent(q, name, i + 1, event);
      await q.run('UPDATE registered_models SET description = ?, creation_time = ?, last_updated_time = ? WHERE name = ?',
        [snapshot.description, snapshot.creation_timestamp, snapshot.last_updated_timestamp, name]);
    });
  }
}
