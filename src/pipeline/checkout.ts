import { FailureError } from '../core/errors.js';
import { syncGitignore } from './gitignore.js';
import type { Stage } from './model.js';
import type { Workspace } from './workspace.js';

export interface CheckoutReport {
  readonly restored: string[];
  readonly unchanged: string[];
  readonly failed: { path: string; message: string }[];
}

export interface CheckoutOptions {
  /** Overwrite outputs modified in the workspace whose content is in no cache object (DVC's `-f`). */
  readonly force?: boolean;
}

/**
 * Restores the cached outputs the lock files record for `stages`, verifying each object first. As DVC
 * does, an output changed in the workspace to content the cache does not hold would be lost: without
 * `force` nothing is restored and the error names every such output.
 */
export async function checkout(ws: Workspace, stages: readonly Stage[], { force = false }: CheckoutOptions = {}): Promise<CheckoutReport> {
  const report: CheckoutReport = { restored: [], unchanged: [], failed: [] };
  const todo: { stage: Stage; rel: string; md5: string }[] = [];
  const modified: string[] = [];
  for (const stage of stages) {
    const locked = new Map((ws.lock.get(stage)?.outs ?? []).map((o) => [o.path, o]));
    for (const out of stage.outs) {
      const entry = locked.get(out.path);
      if (!out.cache || !entry) continue;
      // A file that a pull just fetched is compared with its object, not hashed: reading both is cheaper.
      const now = (await ws.hash(out.rel, { copyOf: ws.odb.verifiedCopy(entry.md5) }))?.info.md5;
      if (now === entry.md5) {
        report.unchanged.push(out.rel);
        continue;
      }
      if (now !== undefined && !ws.odb.hasComplete(now)) modified.push(out.rel);
      todo.push({ stage, rel: out.rel, md5: entry.md5 });
    }
  }
  if (modified.length && !force) {
    throw new FailureError(`checkout: modified outputs would be overwritten (their content is not in the cache): ${modified.join(', ')}; use --force to overwrite them`);
  }
  for (const { stage, rel, md5 } of todo) {
    try {
      ws.forget(rel);
      // Nothing is recorded in the state store: files this fresh are not trusted by their stat yet
      // (core/signature's `settled`), so the next status reads them once.
      await ws.odb.checkout(md5, ws.abs(rel));
      await syncGitignore(ws.root, stage.outs.filter((o) => o.rel === rel));
      report.restored.push(rel);
    } catch (error) {
      report.failed.push({ path: rel, message: (error as Error).message });
    }
  }
  await ws.state.save();
  return report;
}
