import { Rng } from './random.js';

// StratifiedKFold(n_splits=k, shuffle=False) exactly as scikit-learn allocates it, which is what
// GridSearchCV uses for a classifier with cv=k: classes numbered by first appearance, per-fold class
// counts from dealing the sorted labels round-robin over the folds, each class's rows (in data order)
// filling fold 0 first, then fold 1, ...

export interface Fold {
  readonly train: Int32Array;
  readonly test: Int32Array;
}

/** Throws a RangeError (the caller locates it) when every class has fewer members than k. */
export function stratifiedKFold(labels: ArrayLike<number | string>, k: number): Fold[] {
  const n = labels.length;
  const firstSeen = new Map<number | string, number>();
  const encoded = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    let code = firstSeen.get(label);
    if (code === undefined) firstSeen.set(label, (code = firstSeen.size));
    encoded[i] = code;
  }
  const nClasses = firstSeen.size;
  const counts = new Int32Array(nClasses);
  for (let i = 0; i < n; i++) counts[encoded[i]!]!++;
  if (counts.every((c) => c < k)) throw new RangeError(`every class has fewer than ${k} members`);
  // allocation[fold][class]: the sorted labels dealt round-robin, position p going to fold p % k
  const allocation = Array.from({ length: k }, () => new Int32Array(nClasses));
  let p = 0;
  for (let c = 0; c < nClasses; c++) for (let j = 0; j < counts[c]!; j++, p++) allocation[p % k]![c]!++;
  const testFold = new Int32Array(n);
  const nextFold = new Int32Array(nClasses); // per class, the fold its next row goes to
  const usedInFold = new Int32Array(nClasses);
  for (let i = 0; i < n; i++) {
    const c = encoded[i]!;
    while (usedInFold[c]! >= allocation[nextFold[c]!]![c]!) {
      nextFold[c]!++;
      usedInFold[c] = 0;
    }
    testFold[i] = nextFold[c]!;
    usedInFold[c]!++;
  }
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const test: number[] = [];
    const train: number[] = [];
    for (let i = 0; i < n; i++) (testFold[i] === f ? test : train).push(i);
    folds.push({ train: Int32Array.from(train), test: Int32Array.from(test) });
  }
  return folds;
}

/**
 * KFold(n_splits=k, shuffle=True, random_state=seed) as scikit-learn allocates it (what a regressor's
 * search uses): the rows permuted by the seed (our generator, not numpy's, so which rows go together
 * differs from scikit-learn's while the sizes do not), then cut into k contiguous folds, the first
 * n % k of them one row larger. Throws a RangeError when there are fewer rows than folds.
 */
export function kFold(n: number, k: number, seed: number): Fold[] {
  if (n < k) throw new RangeError(`${n} rows, fewer than the ${k} folds`);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  new Rng(seed).shuffle(order);
  const folds: Fold[] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
    const test = order.slice(start, start + size).sort();
    const train = Int32Array.from([...order.subarray(0, start), ...order.subarray(start + size)]).sort();
    folds.push({ train, test });
    start += size;
  }
  return folds;
}
