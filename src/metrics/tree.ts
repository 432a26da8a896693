import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SimpleGit } from 'simple-git';
import { UsageError } from '../core/errors.js';

/** Where values are read from: the workspace, or one git revision of it. */
export interface TreeReader {
  /** How the tree is named in tables: the revision as the user wrote it, or `workspace`. */
  readonly label: string;
  /** A commit's subject line, for `--all-commits` headings. */
  readonly title?: string;
  /** The commit's full hash and committer date (ISO 8601), for a commit's tree. */
  readonly commit?: string;
  readonly date?: string;
  /** A file's text (path relative to the project root), or null when the file does not exist there. */
  read(path: string): Promise<string | null>;
}

export const WORKSPACE = 'workspace';

export function workspaceReader(root: string): TreeReader {
  return {
    label: WORKSPACE,
    async read(path) {
      try {
        return await readFile(join(root, path), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
  };
}

/** simple-git is imported only by the commands that read history. */
async function gitAt(root: string): Promise<SimpleGit> {
  const { simpleGit } = await import('simple-git');
  const git = simpleGit(root);
  if (!(await git.checkIsRepo())) throw new UsageError(`${root} is not inside a git repository`);
  return git;
}

/** The commit a revision names, or a UsageError naming the revision when there is none. */
async function resolveCommit(git: SimpleGit, rev: string): Promise<string> {
  // Not --quiet: simple-git only rejects when git writes to stderr.
  const sha = await git.revparse(['--verify', '--end-of-options', `${rev}^{commit}`]).catch(() => '');
  if (!sha.trim()) throw new UsageError(`unknown revision '${rev}'`);
  return sha.trim();
}

// git's wording when a path is absent from a tree: "does not exist in 'REV'" or "exists on disk, but not in".
const MISSING_PATH = /does not exist in|exists on disk, but not in/;

function commitReader(git: SimpleGit, label: string, sha: string, title?: string, date?: string): TreeReader {
  return {
    label,
    title,
    commit: sha,
    date,
    async read(path) {
      try {
        // `./` makes the path relative to the project root even when it is a subfolder of the repository.
        return await git.show([`${sha}:./${path}`]);
      } catch (error) {
        if (MISSING_PATH.test((error as Error).message)) return null;
        throw error;
      }
    },
  };
}

/** A reader for `rev` (`workspace` means the files on disk). */
export async function revisionReader(root: string, rev: string): Promise<TreeReader> {
  if (rev === WORKSPACE) return workspaceReader(root);
  const git = await gitAt(root);
  // Before the first commit HEAD names nothing yet: as DVC does, compare against no files at all.
  if (rev === 'HEAD' && !(await hasCommits(git))) return { label: rev, read: async () => null };
  return commitReader(git, rev, await resolveCommit(git, rev));
}

async function hasCommits(git: SimpleGit): Promise<boolean> {
  const sha = await git.revparse(['--verify', 'HEAD^{commit}']).catch(() => '');
  return sha.trim() !== '' || (await git.raw(['rev-list', '-n', '1', '--all'])).trim() !== '';
}

/** One reader per commit of the current branch (the latest `limit`), newest first, labelled by short hash. */
export async function branchReaders(root: string, limit = Infinity): Promise<TreeReader[]> {
  const readers = await commitReaders(await gitAt(root), limit);
  if (!readers) throw new UsageError('the current branch has no commits');
  return readers;
}

/**
 * `exp show`'s baselines: HEAD (labelled by its branch name, as DVC does), or with `all` every commit
 * of the current branch; none outside git or before the first commit.
 */
export async function baselineReaders(root: string, all: boolean): Promise<TreeReader[]> {
  const { simpleGit } = await import('simple-git');
  const git = simpleGit(root);
  if (!(await git.checkIsRepo().catch(() => false))) return [];
  const readers = (await commitReaders(git, all ? Infinity : 1)) ?? [];
  const branch = (await git.revparse(['--abbrev-ref', 'HEAD']).catch(() => 'HEAD')).trim();
  const [head, ...rest] = readers;
  return head && branch !== 'HEAD' ? [{ ...head, label: branch }, ...rest] : readers;
}

/** Readers of the current branch's latest `limit` commits, newest first; undefined without commits. */
async function commitReaders(git: SimpleGit, limit: number): Promise<TreeReader[] | undefined> {
  let out: string;
  try {
    out = await git.raw(['log', ...(Number.isFinite(limit) ? [`-${limit}`] : []), '--format=%H%x09%h%x09%cI%x09%s']);
  } catch {
    return undefined;
  }
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [sha, short, date, subject] = line.split('\t') as [string, string, string, string];
      return commitReader(git, short, sha, subject, date);
    });
}
