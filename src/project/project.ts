import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { LocalObjectStore, type ObjectStore } from '../cache/odb.js';
import { writeFileAtomicSync } from '../core/atomic.js';
import { displayPath } from '../core/display.js';
import { ConfigError } from '../core/errors.js';
import type { TrackingStore } from '../tracking/store.js';
import { configBase, MLOPS_DIR, ProjectConfig, valueError, type ConfigValue } from './config.js';
import type { StoreRegistry } from './stores.js';
import type { Tracking, TrackingEnv, TrackingLocation } from './tracking.js';

export interface ProjectOptions {
  /** The folder the command was started in (subfolder defaults, messages); default the root. */
  readonly cwd?: string;
  /** What the environment says about tracking; the CLI reads it, domain code never does. */
  readonly env?: TrackingEnv;
  /** The tracking stores that can be opened (default: this build's, TRACKING_STORES). */
  readonly trackingStores?: StoreRegistry<TrackingStore>;
  /** Receives lines for the user (a setting read from its old place); the CLI prints them on stderr. */
  readonly notice?: (line: string) => void;
}

/**
 * What `.mlops/.gitignore` keeps out of git: everything in `.mlops/` but the shared config (and this
 * file). A whitelist, so state files added later are never committed by accident.
 */
export const MLOPS_GITIGNORE = '# Written by mlops: only the shared config is committed.\n/*\n!/.gitignore\n!/config\n';

/**
 * One project, opened once per command (or per request, in a server): its root, config, cache and
 * tracking store. Opening reads and checks the config only; the cache and the tracking store are
 * opened on first use, so a command that needs neither pays for neither. No global state: two
 * projects (or two opens of one) in one process are independent.
 */
export class Project {
  private cacheStore?: ObjectStore;
  private trackingHandle?: Promise<Tracking>;
  private locationHandle?: Promise<TrackingLocation>;

  private constructor(
    readonly root: string,
    readonly cwd: string,
    readonly config: ProjectConfig,
    private readonly options: ProjectOptions,
  ) {}

  /** Opens the project at `root` (found by the caller, e.g. with findProjectRoot); a bad config throws. */
  static open(root: string, options: ProjectOptions = {}): Project {
    const abs = resolve(root);
    return new Project(abs, resolve(options.cwd ?? abs), ProjectConfig.read(abs), options);
  }

  get mlopsDir(): string {
    return join(this.root, MLOPS_DIR);
  }

  /** A DVC repository (`.dvc/` at the root): the cache is DVC's. */
  get isDvcRepo(): boolean {
    return existsSync(join(this.root, '.dvc'));
  }

  /**
   * The cache folder: in a DVC repository DVC's (`cache.dir` of .dvc/config(.local), else
   * `.dvc/cache`), so both tools share every object; elsewhere `cache.dir` of .mlops/config(.local),
   * else `.mlops/cache`. Relative values are taken from their config file's folder, as DVC does.
   */
  get cacheDir(): string {
    const setting = this.cacheSetting();
    if (setting) return resolve(configBase(setting), setting.value);
    return this.isDvcRepo ? join(this.root, '.dvc', 'cache') : join(this.mlopsDir, 'cache');
  }

  /** DVC, in a DVC repository: the cache is DVC's and shared with it. */
  get cacheOwner(): string | undefined {
    return this.isDvcRepo ? 'DVC' : undefined;
  }

  private cacheSetting(): ConfigValue | undefined {
    return this.isDvcRepo ? this.config.dvcCacheDir : this.config.get('cache.dir');
  }

  /**
   * The run-cache: `<cache>/runs` in mlops's own cache; in DVC's cache, `.mlops/runs`, as its
   * entries are not in the format of DVC's own run-cache.
   */
  get runCacheDir(): string {
    return this.isDvcRepo ? join(this.mlopsDir, 'runs') : join(this.cacheDir, 'runs');
  }

  /**
   * The object store. Checked on first use: the folder must be writable, or, when it does not exist
   * yet, creatable (it is created on the first write, as DVC does); otherwise one located error.
   */
  get cache(): ObjectStore {
    if (!this.cacheStore) {
      const dir = this.cacheDir;
      const problem = unwritable(dir);
      if (problem) {
        const setting = this.cacheSetting();
        throw setting ? valueError(setting, `${displayPath(dir)}: ${problem}`) : new ConfigError(problem, { file: displayPath(dir) });
      }
      this.cacheStore = new LocalObjectStore(dir);
    }
    return this.cacheStore;
  }

  /**
   * The tracking store and experiment (see openTracking for the order settings are taken in). Loaded
   * on first use: a pipeline command that records no run never imports the tracking code.
   */
  tracking(): Promise<Tracking> {
    this.trackingHandle ??= (async () => {
      const [{ openTracking }, { TRACKING_STORES }, location] = await Promise.all([import('./tracking.js'), import('./stores.js'), this.trackingLocation()]);
      const { trackingStores = TRACKING_STORES, notice = () => {} } = this.options;
      return openTracking(this.root, this.config, location, trackingStores, notice);
    })();
    return this.trackingHandle;
  }

  /** Where tracking goes, from the settings alone; worked out once (it may read params.yaml). */
  private trackingLocation(): Promise<TrackingLocation> {
    this.locationHandle ??= import('./tracking.js').then(({ trackingLocation }) => trackingLocation(this.root, this.config, this.options.env ?? {}));
    return this.locationHandle;
  }

  /**
   * The tracking folder relative to the root (POSIX separators) when the store is a folder inside the
   * project: pipeline outputs may not cover it, experiment copies leave it out. Reads settings only.
   */
  async trackingFolder(): Promise<string | undefined> {
    const [{ uri }, { parseStoreUri }] = await Promise.all([this.trackingLocation(), import('./stores.js')]);
    const { scheme, path } = parseStoreUri(uri, this.root);
    const rel = scheme === 'file' ? relative(this.root, path) : '';
    return rel && rel.split(sep)[0] !== '..' && !isAbsolute(rel) ? rel.split(sep).join('/') : undefined;
  }

  /** Creates `.mlops/` with its .gitignore when missing, so state never shows up in `git status`. */
  ensureMlopsDir(): void {
    const ignore = join(this.mlopsDir, '.gitignore');
    if (!existsSync(ignore)) writeFileAtomicSync(ignore, MLOPS_GITIGNORE);
  }

  /** A path given relative to where the command was started, as an absolute path. */
  fromCwd(path: string): string {
    return isAbsolute(path) ? path : resolve(this.cwd, path);
  }
}

/** Why the cache cannot be written at `dir`, or undefined when it can. */
function unwritable(dir: string): string | undefined {
  let existing = dir;
  while (!existsSync(existing)) {
    if (dirname(existing) === existing) return 'does not exist';
    existing = dirname(existing);
  }
  if (!statSync(existing).isDirectory()) return existing === dir ? 'is not a folder' : `${displayPath(existing)} is not a folder`;
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    return existing === dir ? 'is not writable' : `cannot be created (${displayPath(existing)} is not writable)`;
  }
  return undefined;
}
