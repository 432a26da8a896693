import { readSnapshot, type Snapshot } from './collect.js';
import { diffSnapshots, type DiffOptions, type DiffResult } from './diff.js';
import { branchReaders, revisionReader, WORKSPACE, workspaceReader } from './tree.js';

export interface LabelledSnapshot {
  label: string;
  title?: string;
  snapshot: Snapshot;
}

/** The files' values in the workspace, or at every commit of the current branch (newest first). */
export async function showValues(root: string, files: readonly string[], allCommits = false): Promise<LabelledSnapshot[]> {
  const trees = allCommits ? await branchReaders(root) : [workspaceReader(root)];
  const out: LabelledSnapshot[] = [];
  for (const tree of trees) out.push({ label: tree.label, title: tree.title, snapshot: await readSnapshot(tree, files) });
  return out;
}

export interface RevisionDiff {
  labels: [string, string];
  result: DiffResult;
}

/** The files compared between two revisions (default HEAD vs the workspace), DVC's `diff` semantics. */
export async function diffValues(
  root: string,
  files: readonly string[],
  aRev = 'HEAD',
  bRev = WORKSPACE,
  options: DiffOptions = {},
): Promise<RevisionDiff> {
  const [a, b] = [await revisionReader(root, aRev), await revisionReader(root, bRev)];
  const result = diffSnapshots(await readSnapshot(a, files), await readSnapshot(b, files), options);
  return { labels: [a.label, b.label], result };
}
