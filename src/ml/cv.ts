import { fitModel, type EngineName } from './engine.js';
import type { Fold } from './folds.js';
import { fitAndPredict, splitFeatures, type ForestParams, type SplitFeatures, type Splitter } from './forest.js';
import type { LabelledMatrix } from './matrix.js';
import { scoreOutput, type Scoring } from './metrics.js';

// One candidate on one fold: fit on the fold's training rows, score on its test rows. Runs inside the
// worker threads; the data and folds arrive once per worker, the tasks are small messages.

export interface CvData {
  readonly data: LabelledMatrix;
  readonly folds: readonly Fold[];
  readonly splitter: Splitter;
}

export interface FoldTask {
  readonly id: number;
  readonly engine: EngineName;
  readonly params: ForestParams;
  readonly fold: number;
  readonly seed: number;
  readonly scoring: Scoring;
}

export interface FoldResult {
  readonly id: number;
  readonly score: number;
  readonly fitTime: number;
}

export class FoldRunner {
  private readonly features: SplitFeatures;

  constructor(private readonly cv: CvData) {
    this.features = splitFeatures(cv.data, cv.splitter);
  }

  async run(task: FoldTask): Promise<FoldResult> {
    const { data } = this.cv;
    const fold = this.cv.folds[task.fold]!;
    const started = performance.now();
    // our forest scores the test rows tree by tree; the other engine keeps its model
    const output =
      task.engine === 'forest'
        ? fitAndPredict(data, this.features, task.params, task.seed, fold.train, fold.test)
        : (await fitModel(task.engine, data, this.features, task.params, task.seed, fold.train)).predictProba(data, fold.test);
    const fitTime = (performance.now() - started) / 1000;
    return { id: task.id, score: scoreOutput(task.scoring, data, output, fold.test), fitTime };
  }
}
