// The source-control tags MLflow records for a run started from a git checkout. Outside a repository
// (or without git installed) there is nothing to record, and tracking goes on without them.

export const GIT_COMMIT_TAG = 'mlflow.source.git.commit';
export const GIT_BRANCH_TAG = 'mlflow.source.git.branch';
export const GIT_REPO_URL_TAG = 'mlflow.source.git.repoURL';
/**
 * Not an MLflow tag: whether tracked files had uncommitted changes, so the commit alone is not the code.
 * Untracked files (the mlruns/ folder itself, scratch outputs) do not count.
 */
export const GIT_DIRTY_TAG = 'mlops.git.dirty';

export async function gitTags(dir: string): Promise<Record<string, string>> {
  const { simpleGit } = await import('simple-git');
  const git = simpleGit({ baseDir: dir });
  try {
    if (!(await git.checkIsRepo())) return {};
    const [commit, branch, status, remotes] = await Promise.all([
      git.revparse(['HEAD']),
      git.revparse(['--abbrev-ref', 'HEAD']),
      git.status(['--untracked-files=no']),
      git.getRemotes(true),
    ]);
    const tags: Record<string, string> = {
      [GIT_COMMIT_TAG]: commit.trim(),
      [GIT_BRANCH_TAG]: branch.trim(),
      [GIT_DIRTY_TAG]: String(!status.isClean()),
    };
    const origin = remotes.find((r) => r.name === 'origin') ?? remotes[0];
    // Credentials in a remote URL (https://user:token@host/...) must not end up in the tracking folder.
    if (origin?.refs.fetch) tags[GIT_REPO_URL_TAG] = origin.refs.fetch.replace(/\/\/[^/@]*@/, '//');
    return tags;
  } catch {
    return {}; // a repository without commits yet, or git missing
  }
}
