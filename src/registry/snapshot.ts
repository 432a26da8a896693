import { ConflictError } from '../core/errors.js';
import type { HistoryEvent, ModelSnapshot, VersionSnapshot } from './store.js';

// A model copied between registries (`tracking migrate`): what a destination lacks of a source's
// model, and the rules every registry applies when it takes a snapshot in, so that copying is lossless
// and a second copy finds nothing to do.

/** One alias move, as a key: the same move read from any registry gives the same key. */
export function eventKey(e: HistoryEvent): string {
  return JSON.stringify([e.time, e.alias, e.action, e.from, e.to, e.user, e.reason]);
}

/** `current` with the events of `incoming` it lacks, oldest first (ties keep their order). */
export function mergeHistory(current: readonly HistoryEvent[], incoming: readonly HistoryEvent[]): HistoryEvent[] {
  const seen = new Set(current.map(eventKey));
  const merged = [...current, ...incoming.filter((e) => !seen.has(eventKey(e)))];
  return merged.map((e, i) => [e, i] as const).sort(([a, i], [b, j]) => Date.parse(a.time) - Date.parse(b.time) || i - j).map(([e]) => e);
}

/** A version the destination already holds under the same number must hold the same content. */
export function checkSameContent(model: string, held: VersionSnapshot, incoming: VersionSnapshot): void {
  if (held.content !== incoming.content) {
    throw new ConflictError(`model "${model}" version ${held.version} holds other content in the destination (${held.content}, not ${incoming.content}); not copied`);
  }
}

/** What copying `source` into a registry holding `held` (or nothing) would change. */
export interface ModelDiff {
  /** The model itself is new. */
  readonly created: boolean;
  readonly versions: number;
  readonly events: number;
  /** Aliases, descriptions or deletions that differ. */
  readonly changes: number;
}

export function diffModel(source: ModelSnapshot, held: ModelSnapshot | undefined): ModelDiff {
  if (!held) return { created: true, versions: source.versions.length, events: source.history.length, changes: 0 };
  const byNumber = new Map(held.versions.map((v) => [v.version, v]));
  let versions = 0;
  let changes = 0;
  for (const v of source.versions) {
    const h = byNumber.get(v.version);
    if (!h) versions++;
    else {
      checkSameContent(source.name, h, v);
      if (h.description !== v.description || h.deleted !== v.deleted) changes++;
    }
  }
  for (const [alias, version] of Object.entries(source.aliases)) if (held.aliases[alias] !== version) changes++;
  if (held.description !== source.description) changes++;
  const seen = new Set(held.history.map(eventKey));
  const events = source.history.filter((e) => !seen.has(eventKey(e))).length;
  return { created: false, versions, events, changes };
}

export function isEmptyDiff(d: ModelDiff): boolean {
  return !d.created && d.versions === 0 && d.events === 0 && d.changes === 0;
}
