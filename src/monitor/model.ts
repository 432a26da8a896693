import { UsageError } from '../core/errors.js';
import { readTable, type Table } from '../drift/read.js';
import type { Project } from '../project/project.js';
import { REFERENCE_FILE, verifiedFiles } from '../registry/content.js';
import { findVersion } from '../registry/lifecycle.js';
import { parseModelUri } from '../registry/names.js';
import { openRegistry } from '../registry/open.js';
import type { HistoryEvent, ModelVersion } from '../registry/store.js';

// Which model a check is about, which of its versions' logged rows count, and the training reference
// they are compared with.

/** What `mlops serve` serves when given nothing: the same default here. */
export const DEFAULT_MODEL_URI = 'models:/obesity_classifier@champion';

export interface MonitoredModel {
  readonly uri: string;
  readonly name: string;
  /** The version the URI names now. */
  readonly version: ModelVersion;
  /** The versions whose logged rows count: for an alias, every version that held it in the period. */
  readonly versions: readonly number[];
}

export async function monitoredModel(project: Project, uri: string, period: { from: Date; to: Date }): Promise<MonitoredModel> {
  const parsed = parseModelUri(uri);
  if (!parsed) throw new UsageError(`${uri}: expected a registered model (models:/NAME@ALIAS, models:/NAME/VERSION or models:/NAME/latest); monitoring compares with the reference recorded at registration`);
  const { registry } = await openRegistry(project);
  const version = await findVersion(registry, parsed.name, parsed.ref);
  const versions = parsed.ref.kind === 'alias' ? heldDuring(await registry.history(parsed.name), parsed.ref.alias, period, version.version) : [version.version];
  return { uri, name: parsed.name, version, versions };
}

/** The versions the alias pointed at at some time in [from, to), by its recorded moves, plus the holder now. */
export function heldDuring(events: readonly HistoryEvent[], alias: string, period: { from: Date; to: Date }, now: number): number[] {
  const held = new Set<number>();
  let atStart: number | null = null;
  for (const e of events) {
    if (e.alias !== alias) continue;
    const t = Date.parse(e.time);
    if (t <= period.from.getTime()) atStart = e.to;
    else if (t < period.to.getTime() && e.to !== null) held.add(e.to);
  }
  if (atStart !== null) held.add(atStart);
  held.add(now);
  return [...held].sort((a, b) => a - b);
}

/** Versions whose logged rows are tested against one reference: those that recorded the same reference.csv. */
export interface ReferenceGroup {
  /** The version whose reference this is (the newest of the group). */
  readonly version: number;
  readonly versions: readonly number[];
  readonly reference: Table;
}

/**
 * Each monitored version's own training reference, recorded at registration and verified against
 * its md5: when an alias moved in the period, the rows a version answered are compared with what
 * that version was trained on. Versions that recorded the same file share one group (one read).
 */
export async function trainingReferences(project: Project, model: MonitoredModel): Promise<ReferenceGroup[]> {
  const { registry, objects } = await openRegistry(project);
  const byMd5 = new Map<string, ModelVersion[]>();
  for (const v of model.versions) {
    const version = v === model.version.version ? model.version : await registry.getVersion(model.name, v);
    const md5 = version.files[REFERENCE_FILE];
    if (md5 === undefined) {
      const which = model.versions.length > 1 ? ` (it held the alias in the period; check one version with models:/${model.name}/VERSION)` : '';
      throw new UsageError(
        `${model.uri}: version ${version.version} of model ${JSON.stringify(model.name)} has no training reference${which} ` +
          `(registered without prepare's raw training split); run 'mlops prepare', train, and register the model again`,
      );
    }
    byMd5.set(md5, [...(byMd5.get(md5) ?? []), version]);
  }
  const groups: ReferenceGroup[] = [];
  for (const versions of byMd5.values()) {
    const newest = versions.at(-1)!;
    const files = await verifiedFiles(objects, newest);
    groups.push({ version: newest.version, versions: versions.map((v) => v.version), reference: await readTable(files[REFERENCE_FILE]!, `${model.name} v${newest.version} ${REFERENCE_FILE}`) });
  }
  return groups;
}
