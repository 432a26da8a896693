// Output safety across the whole pipeline: one owner per path, no output inside another, none
// leaving the project through a symlink, none covering the tool's own files (a stage's outputs are
// deleted before it runs), and no path that is both a stage's dep and its out.
import type { YamlSource } from '../../core/yaml.js';
import { DEFAULT_PARAMS_FILE } from '../../params/params.js';
import { isWithin, symlinkEscape } from './paths.js';
import type { BuiltStage } from './stage.js';

/**
 * Folders the tool, DVC and git own, and the default tracking folder: no output may be, contain or
 * lie inside them (a stage's outputs are deleted before it runs: `outs: [mlruns]` would delete every run).
 */
const OWNED_DIRS = ['.mlops', '.dvc', '.git', 'mlruns'];

/**
 * `files`: root-relative files no output may be or contain (pipeline and lock files). Nor may one be
 * params.yaml, or a params file of its own stage; a params file another stage writes is DVC's way of
 * passing tuned values downstream, and stays allowed. `owned`: more folders treated as the tool's own
 * (a tracking folder configured elsewhere than `mlruns`).
 */
export function checkOutputs(built: readonly BuiltStage[], root: string, source: YamlSource, files: readonly string[], owned: readonly string[] = []): void {
  const ownedDirs = [...OWNED_DIRS, ...owned];
  const owners = new Map<string, string>();
  for (const b of built) {
    const { stage } = b;
    const seenDeps = new Set<string>();
    for (const [i, dep] of stage.deps.entries()) {
      if (seenDeps.has(dep.rel)) throw source.error(b.deps[i]!, `'${dep.path}' is listed more than once${b.suffix}`);
      seenDeps.add(dep.rel);
    }
    const keep = [...files, DEFAULT_PARAMS_FILE, ...stage.params.map((p) => p.rel)];
    for (const [i, out] of stage.outs.entries()) {
      const at = b.outs[i]!;
      const covered = keep.find((k) => isWithin(k, out.rel)) ?? ownedDirs.find((d) => isWithin(out.rel, d) || isWithin(d, out.rel));
      if (covered) throw source.error(at, `output '${out.path}' would overwrite '${covered}'${b.suffix}`);
      if (seenDeps.has(out.rel)) throw source.error(at, `'${out.path}' is both an output and a dependency of stage '${stage.name}'`);
      const link = symlinkEscape(root, out.rel);
      if (link) throw source.error(at, `output '${out.path}' leads outside the project through the symlink '${link}'${b.suffix}`);
      const owner = owners.get(out.rel);
      if (owner !== undefined) {
        const who = owner === stage.name ? `twice by stage '${owner}'` : `by both '${owner}' and '${stage.name}'`;
        throw source.error(at, `output '${out.rel}' is declared ${who}`);
      }
      owners.set(out.rel, stage.name);
    }
  }
  // Each output looks for an output among its ancestors: together that finds every overlap.
  for (const b of built) {
    for (const [i, out] of b.stage.outs.entries()) {
      const parts = out.rel.split('/');
      for (let n = 1; n < parts.length; n++) {
        const parent = parts.slice(0, n).join('/');
        const owner = owners.get(parent);
        if (owner === undefined) continue;
        throw source.error(b.outs[i]!, `output '${out.rel}' of '${b.stage.name}' lies inside output '${parent}' of '${owner}'; outputs must not overlap`);
      }
    }
  }
}
