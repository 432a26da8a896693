import type { CvData, FoldResult, FoldTask } from './cv.js';
import type { EngineName } from './engine.js';
import { kFold, stratifiedKFold, type Fold } from './folds.js';
import type { Splitter } from './forest.js';
import type { Candidate } from './grid.js';
import type { LabelledMatrix } from './matrix.js';
import type { Scoring } from './metrics.js';
import { runFoldTasks } from './pool.js';

// GridSearchCV: every candidate on every fold (stratified for a classifier, shuffled KFold for a regressor) (same seed for every fit, as scikit-learn
// clones the estimator with one random_state), mean and population std of the fold scores, rank by
// mean with ties sharing the lowest rank, best = the first candidate ranked 1.

export interface SearchOptions {
  readonly folds: number;
  readonly scoring: Scoring;
  readonly seed: number;
  readonly engine: EngineName;
  /** Default exact. */
  readonly splitter?: Splitter;
  readonly workers: number;
  /** Called as each candidate completes all its folds (in completion order). */
  readonly onCandidate?: (done: number, total: number, index: number, result: CandidateSummary) => void;
  /** Runs the fold tasks elsewhere (the queue's workers) instead of on `workers` threads here. */
  readonly executor?: FoldExecutor;
}

/** Runs every task on the CV data, reporting each result as it arrives (any order). */
export type FoldExecutor = (cv: CvData, tasks: readonly FoldTask[], onResult: (result: FoldResult) => void) => Promise<void>;

/** The search's folds: stratified for a classifier, shuffled KFold (by `seed`) for a regressor. */
export function searchFolds(data: LabelledMatrix, k: number, seed: number): Fold[] {
  return data.values ? kFold(data.nRows, k, seed) : stratifiedKFold(data.y, k);
}

export interface CandidateResult {
  readonly params: Candidate['params'];
  readonly fold_scores: number[];
  readonly mean_score: number;
  readonly std_score: number;
  readonly rank: number;
  readonly fit_times: number[];
  readonly mean_fit_time: number;
}

export type CandidateSummary = Omit<CandidateResult, 'rank'>;

export interface SearchResult {
  readonly candidates: CandidateResult[];
  readonly bestIndex: number;
}

export async function gridSearch(data: LabelledMatrix, candidates: readonly Candidate[], options: SearchOptions): Promise<SearchResult> {
  const folds = searchFolds(data, options.folds, options.seed);
  const k = options.folds;
  const tasks: FoldTask[] = [];
  candidates.forEach((c, ci) => {
    for (let f = 0; f < k; f++) tasks.push({ id: ci * k + f, engine: options.engine, params: c.full, fold: f, seed: options.seed, scoring: options.scoring });
  });
  // largest forests first, so the last tasks to finish are short ones (better balance over workers)
  tasks.sort((a, b) => cost(b) - cost(a));
  const scores = candidates.map(() => new Array<number>(k));
  const times = candidates.map(() => new Array<number>(k));
  const remaining = candidates.map(() => k);
  let done = 0;
  const partial: (CandidateSummary | undefined)[] = candidates.map(() => undefined);
  const execute: FoldExecutor = options.executor ?? ((cv, all, onResult) => runFoldTasks(cv, all, options.workers, onResult));
  await execute({ data, folds, splitter: options.splitter ?? 'exact' }, tasks, (r: FoldResult) => {
    const ci = Math.floor(r.id / k);
    scores[ci]![r.id % k] = r.score;
    times[ci]![r.id % k] = r.fitTime;
    if (--remaining[ci]! > 0) return;
    partial[ci] = summarize(candidates[ci]!, scores[ci]!, times[ci]!);
    options.onCandidate?.(++done, candidates.length, ci, partial[ci]!);
  });
  const means = partial.map((p) => p!.mean_score);
  const ranked = partial.map((p, i) => ({ ...p!, rank: 1 + means.filter((m) => m > means[i]!).length }));
  return { candidates: ranked, bestIndex: ranked.findIndex((c) => c.rank === 1) };
}

function cost(task: FoldTask): number {
  return task.params.n_estimators * (task.params.max_depth ?? 64);
}

function summarize(candidate: Candidate, foldScores: number[], fitTimes: number[]): CandidateSummary {
  const mean = foldScores.reduce((a, b) => a + b, 0) / foldScores.length;
  const variance = foldScores.reduce((a, s) => a + (s - mean) ** 2, 0) / foldScores.length;
  return {
    params: candidate.params,
    fold_scores: foldScores,
    mean_score: mean,
    std_score: Math.sqrt(variance),
    fit_times: fitTimes,
    mean_fit_time: fitTimes.reduce((a, b) => a + b, 0) / fitTimes.length,
  };
}
