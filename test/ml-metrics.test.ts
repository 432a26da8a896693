import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accuracy, brier, logLoss, score } from '../src/ml/metrics.js';

// Worked by hand: actual [0,0,0,1,1,2], predicted [0,0,1,1,2,2].
// class 0: tp 2, predicted 2, support 3 -> P 1, R 2/3, F1 4/5
// class 1: tp 1, predicted 2, support 2 -> P 1/2, R 1/2, F1 1/2
// class 2: tp 1, predicted 2, support 1 -> P 1/2, R 1, F1 2/3
const actual = [0, 0, 0, 1, 1, 2];
const predicted = [0, 0, 1, 1, 2, 2];

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

test('accuracy, f1_macro and balanced_accuracy equal the hand-computed values', () => {
  close(accuracy(actual, predicted), 4 / 6);
  close(score('accuracy', actual, predicted, 3), 4 / 6);
  close(score('f1_macro', actual, predicted, 3), (4 / 5 + 1 / 2 + 2 / 3) / 3);
  close(score('balanced_accuracy', actual, predicted, 3), (2 / 3 + 1 / 2 + 1) / 3);
});

test('a class never predicted has F1 0; a class absent from both does not count', () => {
  // classes 0 and 1 present, class 2 absent everywhere: class 0 F1 = 2/3, class 1 F1 = 0
  close(score('f1_macro', [0, 1], [0, 0], 3), 1 / 3);
  // balanced accuracy averages recall over the true classes only: (1 + 0) / 2
  close(score('balanced_accuracy', [0, 1], [0, 0], 3), 1 / 2);
});

test('log loss and the multiclass Brier score equal the hand-computed values', () => {
  const proba = Float64Array.from([0.8, 0.2, 0.4, 0.6]);
  close(logLoss([0, 1], proba, 2), -(Math.log(0.8) + Math.log(0.6)) / 2);
  close(brier([0, 1], proba, 2), (0.2 ** 2 * 2 + 0.4 ** 2 * 2) / 2);
  // a zero probability for the true class is clipped to 1e-15, not infinite
  close(logLoss([0], Float64Array.from([0, 1]), 2), -Math.log(1e-15 / (1 + 1e-15)));
});
