import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { writeJsonFile } from '../core/big-json.js';
import { loadParamsSection } from '../params/params.js';
import type { TrackedRun } from '../tracking/run.js';
import { SectionReader } from './config.js';
import { readDataset, type Dataset } from './dataset.js';
import { ENGINES, fitModel, type EngineName } from './engine.js';
import { DEFAULT_FOREST_PARAMS, splitFeatures, SPLITTERS, type ForestParams, type Splitter } from './forest.js';
import { expandGrid, readGrid, type Grid } from './grid.js';
import { CLASSIFICATION_SCORINGS, REGRESSION_SCORINGS, SCORINGS, type Scoring } from './metrics.js';
import { MODEL_FORMAT, MODEL_TREES } from './model-file.js';
import { PATHS } from './paths.js';
import { defaultWorkers } from './pool.js';
import { gridSearch, type CandidateSummary, type FoldExecutor, type SearchResult } from './search.js';
import { TASK_CHOICES, type TaskChoice } from './task.js';

// `mlops train`: grid search with k-fold CV (stratified for classification, shuffled KFold for
// regression) on the prepared training set, the best candidate refit on all of it, the model and
// reports/cv_results.json written. Same seed, same result.

const KEYS = ['grid', 'cv_folds', 'scoring', 'seed', 'engine', 'splitter', 'workers', 'executor'];
const EXECUTORS = ['local', 'queue'] as const;

interface TrainConfig {
  readonly grid: Grid;
  readonly cvFolds: number;
  /** undefined: the task's default (f1_macro, or r2 for regression). */
  readonly scoring?: Scoring;
  readonly seed: number;
  readonly engine: EngineName;
  readonly splitter: Splitter;
  readonly workers: number;
  /** `local`: worker threads here; `queue`: one queue job per (candidate, fold), run by `mlops queue worker`s. */
  readonly executor: (typeof EXECUTORS)[number];
}

function readTrainConfig(root: string): { config: TrainConfig; reader: SectionReader; target: string; task: TaskChoice } {
  const reader = new SectionReader(loadParamsSection(root, 'train'));
  reader.checkKeys([], reader.section.value, KEYS);
  const config: TrainConfig = {
    grid: readGrid(reader),
    cvFolds: reader.integer(['cv_folds'], 2, 5),
    scoring: reader.get(['scoring']) === undefined ? undefined : reader.choice(['scoring'], SCORINGS),
    seed: reader.integer(['seed'], 0, 42),
    engine: reader.choice(['engine'], ENGINES, 'forest'),
    splitter: reader.choice(['splitter'], SPLITTERS, 'exact'),
    workers: reader.get(['workers']) === null ? defaultWorkers() : reader.integer(['workers'], 1, defaultWorkers()),
    executor: reader.choice(['executor'], EXECUTORS, 'local'),
  };
  if (config.splitter !== 'exact' && config.engine !== 'forest') throw reader.error(['splitter'], `${config.engine} has its own splitter; splitter: ${config.splitter} needs engine: forest`);
  // the target column and the task are named once, in the prepare section
  const prepare = new SectionReader(loadParamsSection(root, 'prepare'));
  return { config, reader, target: prepare.string(['target']), task: prepare.choice(['task'], TASK_CHOICES, 'auto') };
}

/** The scoring, checked against the task; also every other task-dependent check before the search. */
function checkTask(config: TrainConfig, reader: SectionReader, dataset: Dataset): Scoring {
  const { task, data } = dataset;
  const allowed: readonly Scoring[] = task === 'regression' ? REGRESSION_SCORINGS : CLASSIFICATION_SCORINGS;
  const scoring = config.scoring ?? allowed[0]!;
  if (!allowed.includes(scoring)) throw reader.error(['scoring'], `${scoring} does not score ${task} (prepare.task); expected one of ${allowed.join(', ')}`);
  if (task === 'regression') {
    if (config.engine !== 'forest') throw reader.error(['engine'], `${config.engine} does classification only; regression needs engine: forest`);
    if (data.nRows < config.cvFolds) throw reader.error(['cv_folds'], `${data.nRows} rows in ${dataset.file}, fewer than the ${config.cvFolds} folds`);
    return scoring;
  }
  const counts = dataset.classes.map((_, k) => data.y.filter((v) => v === k).length);
  const smallest = counts.indexOf(Math.min(...counts));
  if (counts[smallest]! < config.cvFolds) {
    throw reader.error(['cv_folds'], `class '${dataset.classes[smallest]}' has ${counts[smallest]} rows in ${dataset.file}, fewer than the ${config.cvFolds} folds`);
  }
  return scoring;
}

/** What a fold job needs to rebuild the search's data on another machine: the training file and how it is read. */
export interface FanOutInput {
  readonly file: string;
  readonly target: string;
  readonly task: TaskChoice;
  readonly folds: number;
  readonly seed: number;
}

export interface TrainOptions {
  readonly run?: TrackedRun;
  /**
   * The executor for `train.executor: queue` (the queue's fold jobs), or why there is none (no broker
   * configured). Given by the caller, so the search itself knows nothing of queues.
   */
  readonly fanOut?: (input: FanOutInput) => Promise<FoldExecutor | string>;
  /** `index` is the candidate's place in the grid, as in its name (candidateName) and cv_results.json. */
  readonly onCandidate?: (done: number, total: number, index: number, result: CandidateSummary) => void;
}

export interface TrainSummary {
  readonly search: SearchResult;
  readonly bestParams: Partial<ForestParams>;
  readonly bestScore: number;
  readonly scoring: Scoring;
  readonly candidates: number;
  readonly folds: number;
}

export async function trainGridSearch(root: string, options: TrainOptions = {}): Promise<TrainSummary> {
  const { config, reader, target, task: taskChoice } = readTrainConfig(root);
  // with `auto`, the same inference prepare made, on the prepared target column
  const dataset = readDataset(join(root, PATHS.train), target, taskChoice);
  const { data, task } = dataset;
  const scoring = checkTask(config, reader, dataset);
  (config.grid.max_features ?? []).forEach((v, i) => {
    if (typeof v === 'number' && v > data.nFeatures) throw reader.error(['grid', 'max_features', i], `${v} features asked, the data has ${data.nFeatures}`);
  });
  // scikit-learn's RandomForestRegressor considers every feature at each split by default
  const candidates = expandGrid(config.grid, task === 'regression' ? { ...DEFAULT_FOREST_PARAMS, max_features: null } : DEFAULT_FOREST_PARAMS);
  // Logged before the search, so a run that fails or is interrupted still says what it was asked to do.
  let executor: FoldExecutor | undefined;
  if (config.executor === 'queue') {
    const fanOut = (await options.fanOut?.({ file: join(root, PATHS.train), target, task: taskChoice, folds: config.cvFolds, seed: config.seed })) ?? 'no queue here';
    if (typeof fanOut === 'string') throw reader.error(['executor'], fanOut);
    executor = fanOut;
  }
  await options.run?.logParams(reader.section.value);
  const search = await gridSearch(data, candidates, {
    executor,
    folds: config.cvFolds,
    scoring,
    seed: config.seed,
    engine: config.engine,
    splitter: config.splitter,
    workers: config.workers,
    onCandidate: options.onCandidate,
  });
  const best = candidates[search.bestIndex]!;
  const bestScore = search.candidates[search.bestIndex]!.mean_score;
  const model = await fitModel(config.engine, data, splitFeatures(data, config.splitter), best.full, config.seed);
  const modelJson = {
    format: MODEL_FORMAT,
    engine: config.engine,
    splitter: config.splitter,
    task,
    target,
    features: dataset.features,
    classes: dataset.classes,
    params: best.full,
    seed: config.seed,
    cv: { scoring, score: bestScore, folds: config.cvFolds },
    model: model.toJSON(),
  };
  const cvResults = {
    task,
    scoring,
    cv_folds: config.cvFolds,
    engine: config.engine,
    splitter: config.splitter,
    seed: config.seed,
    best_index: search.bestIndex,
    best_params: best.params,
    best_score: bestScore,
    candidates: search.candidates,
  };
  await writeJsonFile(join(root, PATHS.model), modelJson, MODEL_TREES);
  await writeFileAtomic(join(root, PATHS.cvResults), JSON.stringify(cvResults, null, 2) + '\n');
  if (options.run) await logTraining(options.run, root, scoring, search, bestScore);
  return { search, bestParams: best.params, bestScore, scoring, candidates: candidates.length, folds: config.cvFolds };
}

/** A grid candidate's name: its place in the grid (cv_results.json's index), in the train log and in its run. */
export function candidateName(index: number): string {
  return `candidate-${index}`;
}

/**
 * One nested run per candidate, in grid order. Its `<scoring>` metric is the CV mean, the number it was
 * ranked by (so `--order-by metrics.f1_macro` ranks candidates as the search did); the fold scores are
 * the steps of `cv_<scoring>`.
 */
async function logTraining(run: TrackedRun, root: string, scoring: Scoring, search: SearchResult, bestScore: number): Promise<void> {
  for (const [i, c] of search.candidates.entries()) {
    const child = await run.startChild(candidateName(i));
    await child.logParams(c.params);
    for (const [fold, s] of c.fold_scores.entries()) await child.logMetric(`cv_${scoring}`, s, fold);
    await child.logMetrics({ [scoring]: c.mean_score, [`${scoring}_std`]: c.std_score, rank: c.rank, mean_fit_time: c.mean_fit_time });
    await child.end('FINISHED');
  }
  await run.logMetrics({ [`best_cv_${scoring}`]: bestScore });
  await run.setTags({ best_candidate: candidateName(search.bestIndex) });
  await run.logArtifact(join(root, PATHS.model));
  await run.logArtifact(join(root, PATHS.cvResults));
}
