import type { Hashed } from '../cache/tree.js';
import { flatten, own } from '../core/flatten.js';
import { lockedKey, type LockEntry, type LockedParams, type LockedPath } from './lockfile.js';
import type { OutSpec, PathRef, Stage } from './model.js';
import { sameValue } from './params-values.js';
import type { DepHashed, Workspace } from './workspace.js';

/** Why a stage has to run: each reason names what changed, so `repro` and `status` can say it. */
export type ChangeReason =
  | { type: 'never-ran' }
  | { type: 'forced' }
  | { type: 'upstream-changed'; stage: string }
  | { type: 'always-changed' }
  | { type: 'cmd-changed' }
  | { type: 'dep-missing'; path: string }
  | { type: 'dep-new'; path: string }
  | { type: 'dep-modified'; path: string }
  | { type: 'param-changed'; file: string; key: string; old: unknown; new: unknown }
  | { type: 'param-deleted'; file: string; key: string }
  | { type: 'out-missing'; path: string }
  | { type: 'out-new'; path: string }
  | { type: 'out-modified'; path: string }
  | { type: 'out-not-cached'; path: string };

export interface HashedDep {
  readonly ref: PathRef;
  readonly hashed: DepHashed | null;
}

/** What a stage's inputs are right now; recorded in the lock when the stage has run. */
export interface StageInputs {
  readonly deps: readonly HashedDep[];
  readonly params: LockedParams;
  /** Tracked params (`file`, dotted `key`) that are not there; `key` is '' for a whole missing file. */
  readonly missingParams: readonly { file: string; key: string }[];
}

export async function readInputs(ws: Workspace, stage: Stage): Promise<StageInputs> {
  const deps = await Promise.all(stage.deps.map(async (ref) => ({ ref, hashed: await ws.hashDep(ref) })));
  return { deps, params: ws.params.values(stage.params), missingParams: ws.params.missing(stage.params) };
}

/** DVC's rules for whether a stage must run; an empty list means it is up to date. */
export async function changeReasons(ws: Workspace, stage: Stage, inputs: StageInputs): Promise<ChangeReason[]> {
  if (stage.frozen) return [];
  const entry = ws.lock.get(stage);
  if (!entry) return [{ type: 'never-ran' }];
  const reasons: ChangeReason[] = [];
  if (stage.alwaysChanged || (stage.deps.length === 0 && stage.outs.length === 0)) reasons.push({ type: 'always-changed' });
  if (!sameValue(entry.cmd, lockCmd(stage))) reasons.push({ type: 'cmd-changed' });
  reasons.push(...depReasons(entry, inputs), ...paramReasons(entry, inputs), ...(await outReasons(ws, stage, entry)));
  return reasons;
}

/** The cmd as the lock stores it: a string, or the list as written. */
export function lockCmd(stage: Stage): string | readonly string[] {
  return stage.cmd.length === 1 ? stage.cmd[0]! : stage.cmd;
}

function depReasons(entry: LockEntry, inputs: StageInputs): ChangeReason[] {
  const locked = byPath(entry.deps);
  const reasons: ChangeReason[] = [];
  for (const { ref, hashed } of inputs.deps) {
    const old = locked.get(ref.path);
    if (!hashed) reasons.push({ type: 'dep-missing', path: ref.path });
    else if (!old) reasons.push({ type: 'dep-new', path: ref.path });
    else if (lockedKey(old) !== hashed.info.md5) reasons.push({ type: 'dep-modified', path: ref.path });
  }
  return reasons;
}

function paramReasons(entry: LockEntry, { params: current, missingParams }: StageInputs): ChangeReason[] {
  // A tracked param that is gone is reported as deleted (DVC's status), not as a change to null.
  const reasons: ChangeReason[] = missingParams.map(({ file, key }) => ({ type: 'param-deleted', file, key }));
  const gone = new Set(missingParams.map(({ file, key }) => `${file}\0${key}`));
  for (const [file, values] of Object.entries(current)) {
    // Flattened, so a tracked section (`params: [train]`) reports the leaf that changed: train.cv_folds.
    const now = flatten(values);
    const old = flatten(entry.params?.[file] ?? {});
    for (const key of new Set([...Object.keys(now), ...Object.keys(old)])) {
      if (gone.has(`${file}\0${key}`) || gone.has(`${file}\0`)) continue;
      const [before, after] = [own(old, key), own(now, key)];
      if (!sameValue(before, after)) reasons.push({ type: 'param-changed', file, key, old: before, new: after });
    }
  }
  return reasons;
}

async function outReasons(ws: Workspace, stage: Stage, entry: LockEntry): Promise<ChangeReason[]> {
  const locked = byPath(entry.outs);
  const reasons: ChangeReason[] = [];
  for (const out of stage.outs) {
    const reason = outReason(ws, out, locked.get(out.path), await ws.hash(out.rel));
    if (reason) reasons.push(reason);
  }
  return reasons;
}

function outReason(ws: Workspace, out: OutSpec, old: LockedPath | undefined, now: Hashed | null): ChangeReason | undefined {
  if (!now) return { type: 'out-missing', path: out.path };
  if (!old) return { type: 'out-new', path: out.path };
  if (old.md5 !== now.info.md5) return { type: 'out-modified', path: out.path };
  if (out.cache && !ws.odb.hasComplete(old.md5)) return { type: 'out-not-cached', path: out.path };
  return undefined;
}

function byPath(paths: readonly LockedPath[] | undefined): Map<string, LockedPath> {
  return new Map((paths ?? []).map((p) => [p.path, p]));
}

/** One short phrase per reason, for logs: "dep 'data/raw.csv' modified". */
export function describeReason(r: ChangeReason): string {
  switch (r.type) {
    case 'never-ran':
      return 'never ran';
    case 'forced':
      return 'forced';
    case 'upstream-changed':
      return `upstream stage '${r.stage}' changes`;
    case 'always-changed':
      return 'always changed';
    case 'cmd-changed':
      return 'cmd changed';
    case 'dep-missing':
      return `dep '${r.path}' missing`;
    case 'dep-new':
      return `dep '${r.path}' new`;
    case 'dep-modified':
      return `dep '${r.path}' modified`;
    case 'param-changed':
      return `param ${r.file}:${r.key} ${JSON.stringify(r.old ?? null)} -> ${JSON.stringify(r.new ?? null)}`;
    case 'param-deleted':
      return r.key ? `param ${r.file}:${r.key} deleted` : `params file '${r.file}' deleted`;
    case 'out-missing':
      return `out '${r.path}' missing`;
    case 'out-new':
      return `out '${r.path}' new`;
    case 'out-modified':
      return `out '${r.path}' modified`;
    case 'out-not-cached':
      return `out '${r.path}' not in cache`;
  }
}
