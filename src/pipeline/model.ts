// The expanded pipeline: what the parser produces (after vars, ${} interpolation, foreach and matrix)
// and what the graph, fingerprints and executor consume. Paths are kept twice: as written in the file
// (relative to the stage's wdir, for `stages --json`) and normalised relative to the project root
// (POSIX separators, no `..`), which is what hashing, locking and caching use. A project holds every
// pipeline file under its root; each file keeps its own lock file beside it.

export interface PathRef {
  /** As written in the pipeline file, relative to the stage's wdir. */
  readonly path: string;
  /**
   * Normalised, relative to the project root; for an external dependency (a dep only) the absolute
   * path or the http(s) URL as written.
   */
  readonly rel: string;
  /** Set on a dependency outside the project: an absolute local path or an http(s) URL. */
  readonly external?: 'local' | 'http';
}

export type OutKind = 'outs' | 'metrics' | 'plots';

export interface OutSpec extends PathRef {
  readonly kind: OutKind;
  /** Stored in the cache (default true; metrics files are often `cache: false`). */
  readonly cache: boolean;
  /** Left in place before the stage runs (default false). */
  readonly persist: boolean;
  readonly desc?: string;
  /** Plot properties (template, x, y, x_label, y_label, title, header) for `plots` outputs. */
  readonly plot?: Readonly<Record<string, unknown>>;
}

export interface ParamSpec {
  /** The params file as written (default `params.yaml`), relative to the stage's wdir. */
  readonly file: string;
  /** The params file relative to the project root. */
  readonly rel: string;
  /** Dotted keys in that file; null when the whole file is tracked. */
  readonly keys: readonly string[] | null;
}

export interface Stage {
  /** Final name in its file, with DVC's foreach/matrix suffixes (`build@us`, `build@linux-3.8`). */
  readonly name: string;
  /** The pipeline file that defines it, relative to the project root (`sub/dvc.yaml`). */
  readonly file: string;
  /**
   * How the stage is named in targets and messages, unique in the project: its name in the current
   * folder's pipeline file, else `path/to/dvc.yaml:name` relative to the current folder (as DVC does).
   */
  readonly address: string;
  /** One or more shell commands, run in order; a list stops at its first failure. */
  readonly cmd: readonly string[];
  /** As written (default `.`). */
  readonly wdir: string;
  /** wdir relative to the project root (`.` for the root), `../` resolved. */
  readonly wdirRel: string;
  readonly deps: readonly PathRef[];
  readonly params: readonly ParamSpec[];
  /** outs, metrics and plots, in file order; `kind` tells which list each came from. */
  readonly outs: readonly OutSpec[];
  readonly frozen: boolean;
  readonly alwaysChanged: boolean;
  readonly desc?: string;
  readonly meta?: unknown;
  /** Where the stage is defined, for messages. */
  readonly line?: number;
}

export interface TopLevelPlot {
  /** A path, or the id of a `{id: {x, y, ...}}` definition. */
  readonly id: string;
  readonly props: Readonly<Record<string, unknown>>;
}

export interface Pipeline {
  /** Absolute path of the pipeline file. */
  readonly file: string;
  /** The pipeline file relative to the project root (`sub/dvc.yaml`). */
  readonly fileRel: string;
  /** Absolute project root (not necessarily the pipeline file's folder). */
  readonly root: string;
  /** Absolute path of the lock file beside it (`pipeline.lock`, or `dvc.lock` for `dvc.yaml`). */
  readonly lockFile: string;
  /** Stages in file order. */
  readonly stages: readonly Stage[];
  /** Top-level `params`, `metrics` (paths relative to the project root) and `plots`. */
  readonly params: readonly string[];
  readonly metrics: readonly string[];
  readonly plots: readonly TopLevelPlot[];
}

/** The display form of a cmd: a list joined the way DVC shows it. */
export function cmdText(stage: Pick<Stage, 'cmd'>): string {
  return stage.cmd.join(' && ');
}
