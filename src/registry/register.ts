import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { parseRows } from '../core/csv.js';
import { dirname, join, resolve } from 'node:path';
import { insideOf, readFirstLine } from '../core/files.js';
import { fileURLToPath } from 'node:url';
import { md5File } from '../cache/hash.js';
import { displayPath } from '../core/display.js';
import { ConfigError, UsageError } from '../core/errors.js';
import { readYamlFile } from '../core/yaml.js';
import { metricsOf, scoreOnTest, type Metrics } from '../ml/evaluate.js';
import { readModelFile, readTransformFile } from '../ml/model-file.js';
import { PATHS } from '../ml/paths.js';
import { DEFAULT_PARAMS_FILE } from '../params/params.js';
import type { Project } from '../project/project.js';
import { parseStoreUri } from '../project/stores.js';
import { GIT_COMMIT_TAG, GIT_DIRTY_TAG, gitTags } from '../tracking/git-tags.js';
import type { Run, TrackingStore } from '../tracking/store.js';
import { STAGE_TAG } from '../tracking/tracked-run.js';
import { MODEL_FILE, REFERENCE_FILE, TRANSFORM_FILE, storeFiles } from './content.js';
import { checkAlias, checkModelName } from './names.js';
import { openRegistry } from './open.js';
import type { DataRef, Lineage, ModelVersion } from './store.js';

// `models register`: copy a model and its transform into the object store and record a version with
// its lineage: the run that trained it, the code (git commit, dirty), the data and params it was
// trained and tested on, its metrics on the test data, and the raw training data (monitoring's drift
// reference). Everything is read and checked before anything is written.
//
// The drift reference is kept whole, as one of the version's files (reference.csv: the raw feature
// columns of the training rows, as prepare split them), not as a summary: KS equal to scipy's
// ks_2samp and an exact Wasserstein distance need every reference value, PSI needs the reference's
// quantiles, chi-square its counts, and only the full sample gives all four exactly. It costs no
// space: the file is the pipeline's own output, already in the cache under the same md5.

export interface RegisterOptions {
  readonly name: string;
  /** The model JSON (the transform is the transform.json beside it); default the example's. */
  readonly path?: string;
  /** Or the model a tracked run logged. */
  readonly runId?: string;
  readonly alias?: string;
  readonly description?: string;
  readonly user: string;
}

export interface RegisterResult {
  readonly version: ModelVersion;
  readonly created: boolean;
}

export async function registerModel(project: Project, options: RegisterOptions): Promise<RegisterResult> {
  const { root } = project;
  checkModelName(options.name);
  if (options.alias !== undefined) checkAlias(options.alias);
  if (options.path !== undefined && options.runId !== undefined) throw new UsageError('give --path or --run, not both');
  const source = options.runId ? await runFiles(project, options.runId) : pathFiles(root, options.path ?? PATHS.model);
  try {
    return await registerFiles(project, options, source);
  } finally {
    await source.cleanup?.();
  }
}

async function registerFiles(project: Project, options: RegisterOptions, source: SourceFiles): Promise<RegisterResult> {
  const { root } = project;

  // Both files must be ours and belong together: a foreign JSON is refused here, not at serving time.
  const saved = await readModelFile(source.model);
  const transform = readTransformFile(source.transform);
  if (transform.features.join() !== saved.features.join()) {
    throw new ConfigError("the transform's features differ from the model's; register the transform prepare wrote with this model", { file: displayPath(source.transform) });
  }
  const reference = referenceFile(root, transform.columns.map((c) => c.name));
  const test = join(root, PATHS.test);
  const metrics = existsSync(test) ? pickGateMetrics(scoreOnTest(saved, test).metrics) : {};
  const modelMd5 = await md5File(source.model);
  const run = source.run ?? (await trainingRun(project, modelMd5));
  const git = run ? gitFromTags(run.tags) : gitFromTags(await gitTags(root));
  const lineage: Lineage = {
    source: source.label,
    run_id: run?.info.run_id ?? null,
    ...git,
    train_data: await dataRef(root, PATHS.train),
    test_data: await dataRef(root, PATHS.test),
    params: await dataRef(root, DEFAULT_PARAMS_FILE),
    raw_data: await dataRef(root, rawDataPath(root)),
  };

  const { registry, objects } = await openRegistry(project);
  const stored = await storeFiles(objects, {
    [MODEL_FILE]: source.model,
    [TRANSFORM_FILE]: source.transform,
    ...(reference === undefined ? {} : { [REFERENCE_FILE]: reference }),
  });
  const result = await registry.createVersion(options.name, {
    source: source.label, ...stored, metrics, lineage, description: options.description, user: options.user,
  });
  if (result.created && options.alias !== undefined) {
    await registry.setAlias(options.name, options.alias, result.version.version, { action: 'alias', user: options.user, reason: 'set at registration' });
    return { ...result, version: await registry.getVersion(options.name, result.version.version) };
  }
  return result;
}

interface SourceFiles {
  model: string;
  transform: string;
  /** How the version's `source` names it: a project path or `runs:/ID/model.json`. */
  label: string;
  /** Removes the files fetched from the run's artifacts when they were not on this machine. */
  cleanup?: () => Promise<void>;
  run?: Run;
}

function pathFiles(root: string, path: string): SourceFiles {
  const model = resolve(root, path);
  const label = insideOf(root, model);
  // The registry records project files; a model from elsewhere is copied in by the user first.
  if (label === undefined) throw new UsageError(`${path}: the model must be inside the project`);
  return { model, transform: join(dirname(model), TRANSFORM_FILE), label };
}

/** The model a run logged (train logs model.json); its transform, if the run logged none, is the project's. */
async function runFiles(project: Project, runId: string): Promise<SourceFiles> {
  const { store, uri } = await project.tracking();
  const run = await store.getRun(runId);
  if (!run.info.artifact_uri.startsWith('file:')) return fetchedRunFiles(project, store, run);
  const artifacts = fileURLToPath(run.info.artifact_uri);
  // artifact_uri comes from a file: it must not lead us outside the tracking folder.
  const trackingDir = parseStoreUri(uri, project.root).path;
  if (insideOf(trackingDir, artifacts) === undefined) throw new ConfigError(`the run's artifact_uri points outside ${displayPath(trackingDir)}`, { key: 'artifact_uri' });
  const model = join(artifacts, MODEL_FILE);
  if (!existsSync(model)) throw new UsageError(`run ${runId} logged no ${MODEL_FILE} (is it a train run?)`);
  const logged = join(artifacts, TRANSFORM_FILE);
  return { model, transform: existsSync(logged) ? logged : join(project.root, PATHS.transform), label: `runs:/${runId}/${MODEL_FILE}`, run };
}

/** runFiles for a run whose artifacts the store keeps elsewhere (an S3 artifact root): fetched into a temp folder. */
async function fetchedRunFiles(project: Project, store: TrackingStore, run: Run): Promise<SourceFiles> {
  const runId = run.info.run_id;
  const logged = new Set((await store.listArtifacts(runId)).map((f) => f.path));
  if (!logged.has(MODEL_FILE)) throw new UsageError(`run ${runId} logged no ${MODEL_FILE} (is it a train run?)`);
  const dir = await mkdtemp(join(tmpdir(), 'mlops-register-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    await store.downloadArtifact(runId, MODEL_FILE, join(dir, MODEL_FILE));
    if (logged.has(TRANSFORM_FILE)) await store.downloadArtifact(runId, TRANSFORM_FILE, join(dir, TRANSFORM_FILE));
  } catch (error) {
    await cleanup();
    throw error;
  }
  const transform = logged.has(TRANSFORM_FILE) ? join(dir, TRANSFORM_FILE) : join(project.root, PATHS.transform);
  return { model: join(dir, MODEL_FILE), transform, label: `runs:/${runId}/${MODEL_FILE}`, run, cleanup };
}

/** The newest train run that logged exactly this model file. */
async function trainingRun(project: Project, modelMd5: string): Promise<Run | undefined> {
  const { store } = await project.tracking();
  const experiments = await store.listExperiments('active');
  const { runs } = await store.searchRuns({
    experimentIds: experiments.map((e) => e.experiment_id),
    filter: `tags.\`${STAGE_TAG}\` = 'train' and attributes.status = 'FINISHED'`,
    orderBy: ['attributes.start_time DESC'],
  });
  for (const run of runs) {
    const logged = join(fileURLToPath(run.info.artifact_uri), MODEL_FILE);
    if (existsSync(logged) && (await md5File(logged)) === modelMd5) return run;
  }
  return undefined;
}

function gitFromTags(tags: Record<string, string>): Pick<Lineage, 'git_commit' | 'git_dirty'> {
  const dirty = tags[GIT_DIRTY_TAG];
  return { git_commit: tags[GIT_COMMIT_TAG] ?? null, git_dirty: dirty === undefined ? null : dirty === 'true' };
}

/**
 * The raw training split prepare wrote, when it holds exactly the model's raw columns (a split from
 * another prepare run would be the wrong reference; then none is recorded and monitoring says so).
 */
function referenceFile(root: string, columns: readonly string[]): string | undefined {
  const path = join(root, PATHS.rawTrain);
  if (!existsSync(path)) return undefined;
  const header = parseRows(readFirstLine(path))[0] ?? [];
  const same = header.length === columns.length && columns.every((c) => header.includes(c));
  return same ? path : undefined;
}

async function dataRef(root: string, path: string | undefined): Promise<DataRef | null> {
  if (path === undefined) return null;
  const abs = resolve(root, path);
  const rel = insideOf(root, abs);
  // A path read from params.yaml must not make us read outside the project.
  if (rel === undefined || !existsSync(abs)) return null;
  return { path: rel, md5: await md5File(abs) };
}

/** prepare.input in params.yaml: the raw data the prepared sets were cut from. */
function rawDataPath(root: string): string | undefined {
  const file = join(root, DEFAULT_PARAMS_FILE);
  if (!existsSync(file)) return undefined;
  const top = readYamlFile(file).value as { prepare?: { input?: unknown } } | null;
  const input = top?.prepare?.input;
  return typeof input === 'string' ? input : undefined;
}

const pickGateMetrics = (metrics: Metrics) => Object.fromEntries(metricsOf(metrics).map((m) => [m, metrics[m]!]));
