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
