import { readSnapshot, type Snapshot, type ValuesKind } from './collect.js';
import { diffSnapshots, type DiffResult } from './diff.js';
import { branchReaders, revisionReader, WORKSPACE, workspaceReader } from './tree.js';

export interface LabelledSnapshot {
  label: string;
  title?: string;
  snapshot: Snapshot;
}

/**
 * The files' values in the workspace, or with `commits` at the current branch's latest `commits`
 * commits (Infinity: every one), newest first.
 */
export async function showValues(root: string, files: readonly string[], commits?: number): Promise<LabelledSnapshot[]> {
  const trees = commits === undefined ? [workspaceReader(root)] : await branchReaders(root, commits);
  const out: LabelledSnapshot[] = [];
  for (const tree of trees) out.push({ label: tree.label, title: tree.title, snapshot: await readSnapshot(tree, files, 'metrics') });
  return out;
}

export interface RevisionDiff {
  labels: [string, string];
  result: DiffResult;
}

/** The files compared between two revisions (default HEAD vs the workspace), DVC's `diff` semantics. */
export async function diffValues(
  root: string,
  kind: ValuesKind,
  files: readonly string[],
  revisions: { a?: string; b?: string; all?: boolean } = {},
): Promise<RevisionDiff> {
  const a = await revisionReader(root, revisions.a ?? 'HEAD');
  const b = await revisionReader(root, revisions.b ?? WORKSPACE);
  const [old, now] = [await readSnapshot(a, files, kind), await readSnapshot(b, files, kind)];
  return { labels: [a.label, b.label], result: diffSnapshots(old, now, { all: revisions.all, numericDiff: kind === 'metrics' }) };
}
