// The model registry interface, shaped like MLflow's model-registry AbstractStore: registered models,
// their numbered versions and aliases. What MLflow has no field for is ours: each version's content
// (content-addressed objects), its lineage and metrics, and the history of every alias move. The file
// store (file-store.ts) is the first implementation; a SQL store would be another one.

export const VERSION_STATUS_READY = 'READY';

/** A version's files, by name, with the md5 of each (objects in the project's object store). */
export type VersionFiles = Record<string, string>;

export interface DataRef {
  readonly path: string;
  readonly md5: string;
}

/** Where a version came from: enough to rebuild it, audit it and monitor what it serves. */
export interface Lineage {
  readonly source: string;
  readonly run_id: string | null;
  readonly git_commit: string | null;
  readonly git_dirty: boolean | null;
  readonly train_data: DataRef | null;
  readonly test_data: DataRef | null;
  readonly params: DataRef | null;
  /** The raw training data: the drift reference for monitoring what the version serves. */
  readonly raw_data: DataRef | null;
}

export interface ModelVersion {
  readonly name: string;
  readonly version: number;
  readonly status: string;
  readonly source: string;
  readonly run_id: string | null;
  readonly description: string | null;
  readonly creation_timestamp: number;
  readonly user_id: string;
  /** The md5 of the version's manifest (DVC's `.dir` form): equal content, equal id. */
  readonly content: string;
  readonly files: VersionFiles;
  readonly metrics: Record<string, number>;
  readonly lineage: Lineage;
  readonly aliases: string[];
}

export interface RegisteredModel {
  readonly name: string;
  readonly description: string | null;
  readonly creation_timestamp: number;
  readonly last_updated_timestamp: number;
  readonly latest_version: number | null;
  readonly aliases: Record<string, number>;
}

export type AliasAction = 'promote' | 'alias' | 'rollback' | 'delete';

/** One alias move, as `history` shows it. */
export interface HistoryEvent {
  /** ISO 8601. */
  readonly time: string;
  readonly user: string;
  readonly action: AliasAction;
  readonly alias: string;
  readonly from: number | null;
  readonly to: number | null;
  readonly reason: string;
  /** The gate report that allowed a promotion, when gates ran. */
  readonly gates?: unknown;
  readonly forced?: boolean;
}

export interface NewVersion {
  readonly source: string;
  readonly content: string;
  readonly files: VersionFiles;
  readonly metrics: Record<string, number>;
  readonly lineage: Lineage;
  readonly description?: string;
  readonly user: string;
}

/** How an alias move is recorded: who, why, and the gate report when there was one. */
export type AliasChange = Omit<HistoryEvent, 'time' | 'alias' | 'from' | 'to'>;

/** A version as copied between registries: deleted ones too, so numbers stay as they were. */
export interface VersionSnapshot extends Omit<ModelVersion, 'aliases'> {
  readonly deleted: boolean;
}

/** Everything a registry holds about one model (`exportModel`), for `tracking migrate` to copy. */
export interface ModelSnapshot {
  readonly name: string;
  readonly description: string | null;
  readonly creation_timestamp: number;
  readonly last_updated_timestamp: number;
  /** Every version ever created, deleted ones included, by number. */
  readonly versions: VersionSnapshot[];
  readonly aliases: Record<string, number>;
  readonly history: HistoryEvent[];
}

export interface ModelRegistry {
  /** Every registered model, by name. */
  listModels(): Promise<RegisteredModel[]>;
  /** Throws UnknownModelError. */
  getModel(name: string): Promise<RegisteredModel>;
  /** Creates the model on first registration; with content already registered returns that version, created false. */
  createVersion(name: string, version: NewVersion): Promise<{ version: ModelVersion; created: boolean }>;
  /** Versions not deleted, oldest first. */
  listVersions(name: string): Promise<ModelVersion[]>;
  /** Throws UnknownModelError / UnknownVersionError (a deleted version is unknown). */
  getVersion(name: string, version: number): Promise<ModelVersion>;
  /** Throws UnknownAliasError. */
  getVersionByAlias(name: string, alias: string): Promise<ModelVersion>;
  setDescription(name: string, version: number | null, text: string): Promise<void>;
  /** Points `alias` at `version` and records the move. */
  setAlias(name: string, alias: string, version: number, change: AliasChange): Promise<void>;
  /** Removes `alias` and records it. */
  deleteAlias(name: string, alias: string, change: AliasChange): Promise<void>;
  /** Marks the version deleted (its number is never reused); its aliases go, recorded as deletes. */
  deleteVersion(name: string, version: number, change: AliasChange): Promise<void>;
  deleteModel(name: string): Promise<void>;
  /** Every alias move, oldest first. */
  history(name: string): Promise<HistoryEvent[]>;
  /** The whole model, deleted versions included. Throws UnknownModelError. */
  exportModel(name: string): Promise<ModelSnapshot>;
  /**
   * Makes this registry's model hold a snapshot from another one (`tracking migrate`): versions under
   * their numbers, times, descriptions, deletions, aliases and history as given; what it already holds
   * that the snapshot lacks stays. A version number holding other content is a ConflictError.
   */
  importModel(snapshot: ModelSnapshot): Promise<void>;
  /**
   * Runs `fn` while no other process changes this registry's aliases: promote and rollback read the
   * history and move an alias as one step.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;

  /** Releases connections (a database store); a command's process may also just exit. */
  close?(): Promise<void>;
}
