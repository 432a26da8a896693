import { matches, parseFilter } from './filter.js';
import { compareRuns, parseOrderBy, readSortKeys } from './order-by.js';
import { StoreFileError } from './run-files.js';
import type { LazyRun } from './run-reader.js';
import type { Run, SearchRunsQuery, SearchRunsResult, SkippedRun } from './store.js';

/**
 * Filter, order and cut run folders. Each run is read lazily: the filter's first failing clause ends its
 * reads, sorting reads only the ordered keys, and only the runs returned are read whole. A run whose
 * files cannot be read is reported in `skipped` and left out; the others still list.
 */
export function searchRunFolders(folders: readonly LazyRun[], query: SearchRunsQuery): SearchRunsResult {
  const filter = parseFilter(query.filter ?? '');
  const order = parseOrderBy(query.orderBy ?? []);
  const view = query.view ?? 'active';
  const skipped: SkippedRun[] = [];
  const readable = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof StoreFileError)) throw error;
      skipped.push({ path: error.path, reason: error.reason });
      return undefined;
    }
  };
  const candidates = folders.filter((run) =>
    readable(() => {
      if (filter && !matches(filter, run)) return false;
      const info = run.info(); // null: meta.yaml not written yet, a run being created
      if (!info || (view !== 'all' && info.lifecycle_stage !== view)) return false;
      readSortKeys(run, order); // read (and cache) now, so a bad file is reported here, not mid-sort
      return true;
    }),
  );
  candidates.sort(compareRuns(order));
  const limit = query.maxResults ?? Infinity;
  const runs: Run[] = [];
  for (const run of candidates) {
    if (runs.length >= limit) break;
    const full = readable(() => run.toRun());
    if (full) runs.push(full);
  }
  return { runs, skipped };
}
