// As `dvc repro` does: each cached output gets a `/name` line in the .gitignore beside it, so `git add
// -A` never commits models and data; an output declared `cache: false` is the user's to commit, so
// its line is removed again. Only inside a git work tree, and never a line twice.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import type { OutSpec } from './model.js';

export async function syncGitignore(root: string, outs: readonly Pick<OutSpec, 'rel' | 'cache'>[]): Promise<void> {
  if (outs.length === 0 || !inGitWorkTree(root)) return;
  const byFile = new Map<string, { add: string[]; remove: string[] }>();
  for (const out of outs) {
    const file = join(root, posix.dirname(out.rel), '.gitignore');
    const changes = byFile.get(file) ?? { add: [], remove: [] };
    (out.cache ? changes.add : changes.remove).push(`/${posix.basename(out.rel)}`);
    byFile.set(file, changes);
  }
  for (const [file, { add, remove }] of byFile) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const lines = text.split('\n');
    if (text.endsWith('\n')) lines.pop();
    const kept = lines.filter((line) => !remove.includes(line.trim()));
    const present = new Set(kept.map((line) => line.trim()));
    const next = [...kept, ...add.filter((entry) => !present.has(entry))];
    if (next.length === lines.length && next.every((line, i) => line === lines[i])) continue;
    await writeFileAtomic(file, next.length ? `${next.join('\n')}\n` : '');
  }
}

/** Whether `root` lies in a git work tree (a `.git` folder or worktree file here or above). */
function inGitWorkTree(root: string): boolean {
  for (let dir = root; ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return true;
    if (dirname(dir) === dir) return false;
  }
}
