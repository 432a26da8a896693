import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { MLOPS_GITIGNORE } from '../src/project/project.js';
import { gitInit, runMlops, tempDir, writeFiles } from './helpers.js';

// Fixtures of the queue tests: a git repository with a one-stage pipeline, and readers of exp show and
// queue status.

// score = lr * 10 + depth, written by the stage; `fail` makes the stage exit 3.
export const PIPELINE = `stages:
  train:
    cmd: >-
      sleep \${train.pause} && test \${train.fail} = 0 && echo "lr \${train.lr}" > model.txt &&
      awk 'BEGIN { printf "{\\"score\\": %g}", \${train.lr} * 10 + \${train.depth} }' > metrics.json
    params: [train]
    outs: [model.txt]
    metrics:
      - metrics.json:
          cache: false
`;
export const PARAMS = 'train:\n  lr: 0.1    # step size\n  depth: 3\n  pause: 0\n  fail: 0\n';

/** A git repository with the pipeline above committed, its tracking folder and model ignored. */
export function experimentRepo(t: { after(fn: () => void): void }, extra: Record<string, string> = {}): string {
  const dir = tempDir(t);
  // .mlops/ as `mlops init` makes it and a user commits it.
  const mlops = { '.mlops/config': '', '.mlops/.gitignore': MLOPS_GITIGNORE };
  writeFiles(dir, { 'params.yaml': PARAMS, 'pipeline.yaml': PIPELINE, '.gitignore': 'model.txt\nmlruns/\n', ...mlops, ...extra });
  gitInit(dir);
  return dir;
}

type Row = { name: string; kind: string; state: string | null; run_id: string | null; rev: string | null; params: Record<string, string>; metrics: Record<string, number> };
export const expShow = async (dir: string, args: string[] = []) => {
  const r = await runMlops(['exp', 'show', '--json', ...args], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as Row[]).filter((row) => row.kind === 'experiment');
};

type Job = { id: string; state: string; attempts: number; error?: string; data: { name: string; commit: string }; result?: { run_id: string } };
export const queueStatus = async (dir: string, env?: Record<string, string>) => {
  const r = await runMlops(['queue', 'status', '--json'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Job[];
};

/** Processes whose working folder is inside `dir`. */
export function processesUnder(dir: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/cwd`).startsWith(dir);
      } catch {
        return false;
      }
    })
    .map((p) => `${p}: ${readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
}

