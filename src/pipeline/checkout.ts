import { statSync } from 'node:fs';
import { isDirHash } from '../cache/tree.js';
import { FailureError } from '../core/errors.js';
import { statSignature } from '../core/signature.js';
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
  const todo: { stage: Stage; rel: string; md5: string; size: number }[] = [];
  const modified: string[] = [];
  for (const stage of stages) {
    const locked = new Map((ws.lock.get(stage)?.outs ?? []).map((o) => [o.path, o]));
    for (const out of stage.outs) {
      const entry = locked.get(out.path);
      if (!out.cache || !entry) continue;
      const now = (await ws.hash(out.rel))?.info.md5;
      if (now === entry.md5) {
        report.unchanged.push(out.rel);
        continue;
      }
      if (now !== undefined && !ws.odb.hasComplete(now)) modified.push(out.rel);
      todo.push({ stage, rel: out.rel, md5: entry.md5, size: entry.size });
    }
  }
  if (modified.length && !force) {
    throw new FailureError(`checkout: modified outputs would be overwritten (their content is not in the cache): ${modified.join(', ')}; use --force to overwrite them`);
  }
  for (const { stage, rel, md5, size } of todo) {
    try {
      ws.forget(rel);
      const written = await ws.odb.checkout(md5, ws.abs(rel));
      for (const file of written) ws.state.record(file.path, statSync(file.path), file.md5);
      // Refresh the out's own signature from what was just recorded, so nothing is read twice.
      if (isDirHash(md5)) await ws.hash(rel);
      else ws.state.recordRoot(ws.abs(rel), statSignature(statSync(ws.abs(rel))), { md5, size });
      await syncGitignore(ws.root, stage.outs.filter((o) => o.rel === rel));
      report.restored.push(rel);
    } catch (error) {
      report.failed.push({ path: rel, message: (error as Error).message });
    }
  }
  await ws.state.save();
  return report;
}
