import { fitModel, type EngineName } from './engine.js';
import type { Fold } from './folds.js';
import type { ForestParams } from './forest.js';
import { encodeFeatures, type FeatureCodes, type LabelledMatrix } from './matrix.js';
import { scoreOutput, type Scoring } from './metrics.js';

// One candidate on one fold: fit on the fold's training rows, score on its test rows. Runs inside the
// worker threads; the data and folds arrive once per worker, the tasks are small messages.

export interface CvData {
  readonly data: LabelledMatrix;
  readonly folds: readonly Fold[];
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
  private readonly coded: FeatureCodes;

  constructor(private readonly cv: CvData) {
    this.coded = encodeFeatures(cv.data);
  }

  async run(task: FoldTask): Promise<FoldResult> {
    const { data } = this.cv;
    const fold = this.cv.folds[task.fold]!;
    const started = performance.now();
    const model = await fitModel(task.engine, data, this.coded, task.params, task.seed, fold.train);
    const fitTime = (performance.now() - started) / 1000;
    return { id: task.id, score: scoreOutput(task.scoring, data, model.predictProba(data, fold.test), fold.test), fitTime };
  }
}
