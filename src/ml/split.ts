import { Rng } from './random.js';

// A stratified train/test split: each class contributes round(count * testSize) rows to the test part
// (at least one to each side), chosen at random with the seed; both parts come out shuffled, as
// scikit-learn's train_test_split returns them.

export interface Split {
  readonly train: number[];
  readonly test: number[];
}

/** Throws a RangeError naming the class when a class has fewer than 2 rows. */
export function stratifiedSplit(labels: readonly string[], testSize: number, seed: number): Split {
  const rng = new Rng(seed);
  const byClass = new Map<string, number[]>();
  labels.forEach((label, i) => {
    const rows = byClass.get(label);
    if (rows) rows.push(i);
    else byClass.set(label, [i]);
  });
  const train: number[] = [];
  const test: number[] = [];
  for (const label of [...byClass.keys()].sort()) {
    const rows = byClass.get(label)!;
    if (rows.length < 2) throw new RangeError(`class '${label}' has only ${rows.length} row; a stratified split needs at least 2`);
    rng.shuffle(rows);
    const nTest = Math.min(rows.length - 1, Math.max(1, Math.round(rows.length * testSize)));
    // a loop, not push(...rows): a class of a few hundred thousand rows overflows the call stack
    for (let i = 0; i < rows.length; i++) (i < nTest ? test : train).push(rows[i]!);
  }
  rng.shuffle(train);
  rng.shuffle(test);
  return { train, test };
}

/** train_test_split without stratification: ceil(n * testSize) rows to the test part, chosen at random. */
export function shuffleSplit(n: number, testSize: number, seed: number): Split {
  if (n < 2) throw new RangeError(`${n} usable row; a split needs at least 2`);
  const rows = Array.from({ length: n }, (_, i) => i);
  new Rng(seed).shuffle(rows);
  const nTest = Math.min(n - 1, Math.ceil(n * testSize));
  return { test: rows.slice(0, nTest), train: rows.slice(nTest) };
}
