import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stratifiedKFold } from '../src/ml/folds.js';
import { expandGrid } from '../src/ml/grid.js';
import { Rng } from '../src/ml/random.js';

test('StratifiedKFold allocation matches scikit-learn on a case worked by hand', () => {
  // classes by first appearance: b = 0 (5 rows), a = 1 (3 rows); sorted labels 0,0,0,0,0,1,1,1 dealt
  // over 3 folds: fold 0 gets positions 0,3,6 (b,b,a), fold 1 gets 1,4,7 (b,b,a), fold 2 gets 2,5 (b,a).
  // b rows 0,2,4,6,7 -> folds 0,0,1,1,2; a rows 1,3,5 -> folds 0,1,2.
  const folds = stratifiedKFold(['b', 'a', 'b', 'a', 'b', 'a', 'b', 'b'], 3);
  assert.deepEqual(folds.map((f) => Array.from(f.test)), [[0, 1, 2], [3, 4, 6], [5, 7]]);
  assert.deepEqual(Array.from(folds[0]!.train), [3, 4, 5, 6, 7]);
});

test('every fold keeps the class proportions (floor or ceil of count / k per class)', () => {
  const counts = { x: 23, y: 11, z: 7 };
  const labels = Object.entries(counts).flatMap(([c, n]) => Array<string>(n).fill(c));
  new Rng(7).shuffle(labels); // data order is not class order
  const k = 5;
  const folds = stratifiedKFold(labels, k);
  const seen = new Set<number>();
  for (const fold of folds) {
    for (const [c, n] of Object.entries(counts)) {
      const inFold = Array.from(fold.test).filter((i) => labels[i] === c).length;
      assert.ok(inFold === Math.floor(n / k) || inFold === Math.ceil(n / k), `${c}: ${inFold} of ${n}`);
    }
    fold.test.forEach((i) => seen.add(i));
    assert.equal(fold.train.length + fold.test.length, labels.length);
  }
  assert.equal(seen.size, labels.length, 'each row is tested exactly once');
});

test('every class smaller than k is an error', () => {
  assert.throws(() => stratifiedKFold(['a', 'a', 'b', 'b'], 3), RangeError);
});

test('the grid expands like ParameterGrid: keys sorted, the last varying fastest', () => {
  const candidates = expandGrid({ n_estimators: [10, 20], max_depth: [null, 3], bootstrap: [true] });
  assert.deepEqual(
    candidates.map((c) => c.params),
    [
      { bootstrap: true, max_depth: null, n_estimators: 10 },
      { bootstrap: true, max_depth: null, n_estimators: 20 },
      { bootstrap: true, max_depth: 3, n_estimators: 10 },
      { bootstrap: true, max_depth: 3, n_estimators: 20 },
    ],
  );
  assert.equal(candidates[0]!.full.max_features, 'sqrt', 'keys outside the grid keep their defaults');
});
