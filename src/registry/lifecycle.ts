import { UsageError } from '../core/errors.js';
import { verifiedFiles } from './content.js';
import { UnknownAliasError } from './errors.js';
import type { GateReport } from './gates.js';
import { checkAlias, type VersionRef } from './names.js';
import type { Project } from '../project/project.js';
import { openRegistry } from './open.js';
import type { HistoryEvent, ModelRegistry, ModelVersion } from './store.js';

// Moving aliases: promote (behind the gates), rollback (back along the history). Each runs under the
// registry's lock from reading the current holder to recording the move, so two at once never lose a
// history entry or point an alias at a version that another process just deleted.

/** The version a VERSION argument names: a number, `latest`, or an alias. */
export async function findVersion(registry: ModelRegistry, name: string, ref: VersionRef): Promise<ModelVersion> {
  if (ref.kind === 'version') return registry.getVersion(name, ref.version);
  if (ref.kind === 'alias') return registry.getVersionByAlias(name, ref.alias);
  const model = await registry.getModel(name);
  if (model.latest_version === null) throw new UsageError(`model ${JSON.stringify(name)} has no versions`);
  return registry.getVersion(name, model.latest_version);
}

export interface PromoteOptions {
  readonly name: string;
  readonly ref: VersionRef;
  readonly alias: string;
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly reason?: string;
  readonly user: string;
}

export type PromoteOutcome =
  /** The alias already points at the version: nothing to do. */
  | { kind: 'noop'; version: number }
  | { kind: 'moved' | 'dry-run' | 'refused'; version: number; from: number | null; report: GateReport | null };

export async function promote(project: Project, options: PromoteOptions): Promise<PromoteOutcome> {
  checkAlias(options.alias);
  if (options.force && !options.reason?.trim()) throw new UsageError('--force needs --reason TEXT: the history records why the gates were skipped');
  if (options.reason && !options.force) throw new UsageError('--reason goes with --force');
  const root = project.root;
  // The gates score models (the ML code): loaded here, not by every registry command that finds a version.
  const { gateReport, readRegistryGates } = await import('./gates.js');
  const config = readRegistryGates(root);
  const { registry, objects } = await openRegistry(project);
  return registry.exclusive(async () => {
    const candidate = await findVersion(registry, options.name, options.ref);
    const holder = (await registry.getModel(options.name)).aliases[options.alias];
    if (holder === candidate.version) return { kind: 'noop', version: candidate.version };
    const champion = holder === undefined ? undefined : await registry.getVersion(options.name, holder);
    // A damaged candidate is refused even with --force: it would serve something nobody registered.
    if (options.force) await verifiedFiles(objects, candidate);
    const report = options.force ? null : await gateReport(root, objects, config, candidate, options.alias, champion);
    const from = holder ?? null;
    if (options.dryRun) return { kind: 'dry-run', version: candidate.version, from, report };
    if (report && !report.passed) return { kind: 'refused', version: candidate.version, from, report };
    await registry.setAlias(options.name, options.alias, candidate.version, {
      action: 'promote',
      user: options.user,
      reason: options.force ? `forced: ${options.reason!.trim()}` : gateSummary(report!),
      ...(report ? { gates: report } : { forced: true }),
    });
    return { kind: 'moved', version: candidate.version, from, report };
  });
}

/** One line for the history: what the gates checked. */
export function gateSummary(report: GateReport): string {
  if (report.checks.length === 0) return 'no gates configured';
  return `gates passed: ${report.checks.map((c) => c.gate).join('; ')}`;
}

/**
 * The versions that held `alias`, oldest first, as the history left them: a promote or alias move
 * pushes the new holder, a rollback pops back to the holder it restored, a delete clears the stack.
 */
export function holders(events: readonly HistoryEvent[], alias: string): number[] {
  const stack: number[] = [];
  for (const e of events) {
    if (e.alias !== alias) continue;
    if (e.to === null) stack.length = 0;
    else if (e.action !== 'rollback') stack.push(e.to);
    else {
      stack.pop();
      while (stack.length && stack.at(-1) !== e.to) stack.pop();
    }
  }
  return stack;
}

export async function rollback(project: Project, options: { name: string; alias: string; user: string }): Promise<{ from: number; to: number }> {
  checkAlias(options.alias);
  const { registry, objects } = await openRegistry(project);
  return registry.exclusive(async () => {
    const current = (await registry.getModel(options.name)).aliases[options.alias];
    if (current === undefined) throw new UnknownAliasError(options.name, options.alias);
    const stack = holders(await registry.history(options.name), options.alias);
    const live = new Set((await registry.listVersions(options.name)).map((v) => v.version));
    // The previous holder still registered: deleted ones are passed over.
    const target = stack.slice(0, -1).reverse().find((v) => live.has(v) && v !== current);
    if (target === undefined) {
      throw new UsageError(`no earlier version held ${options.alias} of model ${JSON.stringify(options.name)} (see 'mlops models history ${options.name}')`);
    }
    await verifiedFiles(objects, await registry.getVersion(options.name, target));
    await registry.setAlias(options.name, options.alias, target, { action: 'rollback', user: options.user, reason: `rollback from v${current}` });
    return { from: current, to: target };
  });
}
