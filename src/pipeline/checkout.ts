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
        // Nothing is recorded in the state store: files this fresh are not trusted by their stat yet
        // (core/signature's `settled`), so the next status reads them once.
        await ws.odb.checkout(entry.md5, ws.abs(out.rel));
        report.restored.push(out.rel);
      } catch (error) {
        report.failed.push({ path: out.rel, message: (error as Error).message });
      }
    }
  }
  await ws.state.save();
  return report;
}
