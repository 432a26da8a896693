import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrackingStore } from '../src/tracking/store.js';
import { runMlops } from './helpers.js';

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
