import { statSync } from 'node:fs';
import { isDirHash } from '../cache/tree.js';
import { statSignature } from '../core/signature.js';
import type { Stage } from './model.js';
import type { Workspace } from './workspace.js';

export interface CheckoutReport {
  readonly restored: string[];
  readonly unchanged: string[];
  readonly failed: { path: string; message: string }[];
}

/** Restores the cached outputs the lock file records for `stages`, verifying each object first. */
export async function checkout(ws: Workspace, stages: readonly Stage[]): Promise<CheckoutReport> {
  const report: CheckoutReport = { restored: [], unchanged: [], failed: [] };
  for (const stage of stages) {
    const locked = new Map((ws.lock.get(stage.name)?.outs ?? []).map((o) => [o.path, o]));
    for (const out of stage.outs) {
      const entry = locked.get(out.path);
      if (!out.cache || !entry) continue;
      if ((await ws.hash(out.rel))?.info.md5 === entry.md5) {
        report.unchanged.push(out.rel);
        continue;
      }
      try {
        const written = await ws.odb.checkout(entry.md5, ws.abs(out.rel));
        for (const file of written) ws.state.record(file.path, statSync(file.path), file.md5);
        // Refresh the out's own signature from what was just recorded, so nothing is read twice.
        if (isDirHash(entry.md5)) await ws.hash(out.rel);
        else ws.state.recordRoot(ws.abs(out.rel), statSignature(statSync(ws.abs(out.rel))), { md5: entry.md5, size: entry.size });
        report.restored.push(out.rel);
      } catch (error) {
        report.failed.push({ path: out.rel, message: (error as Error).message });
      }
    }
  }
  await ws.state.save();
  return report;
}
