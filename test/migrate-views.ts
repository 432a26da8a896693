import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrackingStore } from '../src/tracking/store.js';
import { MLOPS_BIN, runMlops } from './helpers.js';

// What a user sees of a store through the CLI, for comparing two stores after `tracking migrate`:
// `runs show --json` of every run, `models list --json`, `models history --json` of every model.

export interface StoreView {
  runs: Record<string, unknown>;
  models: unknown;
  history: Record<string, unknown>;
}

async function json(root: string, uri: string, args: string[]): Promise<unknown> {
  const result = await runMlops(args, { cwd: root, env: { MLOPS_TRACKING_URI: uri } });
  assert.equal(result.code, 0, `${args.join(' ')} on ${uri}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** The view of the store at `uri`; `artifactRoot` is replaced by `<root>` in artifact URIs, when given. */
export async function storeView(root: string, uri: string, runIds: readonly string[], artifactRoot?: string): Promise<StoreView> {
  const runs: Record<string, unknown> = {};
  for (const id of runIds) {
    const shown = (await json(root, uri, ['runs', 'show', id, '--json'])) as { info: { artifact_uri: string } };
    if (artifactRoot !== undefined) shown.info.artifact_uri = shown.info.artifact_uri.replace(artifactRoot, '<root>');
    runs[id] = shown;
  }
  const models = (await json(root, uri, ['models', 'list', '--json'])) as { models: { name: string }[] };
  const history: Record<string, unknown> = {};
  for (const { name } of models.models) history[name] = await json(root, uri, ['models', 'history', name, '--json']);
  return { runs, models, history };
}

/** Every artifact of the runs, read back through the store: path -> base64 of its bytes. */
export async function artifactContents(store: TrackingStore, runIds: readonly string[], scratch: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const id of runIds) {
    for (const { path } of await store.listArtifacts(id)) {
      const local = join(scratch, `artifact-${Object.keys(out).length}`);
      await store.downloadArtifact(id, path, local);
      out[`${id}/${path}`] = readFileSync(local).toString('base64');
    }
  }
  return out;
}

/**
 * Starts `mlops tracking migrate ...args` and kills it with SIGKILL once `midway()` says the copy is
 * under way; fails when the migration ends before that (a source too small to catch it halfway).
 */
export async function killedMigration(args: string[], cwd: string, env: Record<string, string>, midway: () => Promise<boolean>): Promise<void> {
  const child = spawn(process.execPath, [MLOPS_BIN, 'tracking', 'migrate', ...args], { cwd, env: { ...process.env, CI: 'true', MLOPS_ROOT: '', ...env }, stdio: 'ignore' });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  let ended = false;
  void exited.then(() => (ended = true));
  while (!ended && !(await midway())) await new Promise((done) => setTimeout(done, 10));
  assert.ok(!ended, 'the migration ended before it could be killed halfway');
  child.kill('SIGKILL');
  assert.equal(await exited, null);
}
