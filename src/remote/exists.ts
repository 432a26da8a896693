import type { RemoteStore } from './store.js';
import { withRetries } from './retry.js';
import { pool } from './pool.js';

// Which of many objects a remote has, decided as DVC decides it: asking for each object (HEAD) costs a
// request per object, listing costs a request per 1000 objects of the whole remote. The remote's size
// is estimated from one prefix (`00`, 1/256 of the objects, as object names are uniform hashes), and
// listing is chosen only when it takes fewer requests (weighted against it for very large remotes).
const PAGE = 1000;
const TRAVERSE_WEIGHT = 5;
const TRAVERSE_THRESHOLD = 500_000;

export const objectKey = (md5: string) => `files/md5/${md5.slice(0, 2)}/${md5.slice(2)}`;
const keyObject = (key: string) => {
  const m = /^files\/md5\/([0-9a-f]{2})\/([0-9a-f]{30}(\.dir)?)$/.exec(key);
  return m ? m[1]! + m[2]! : undefined;
};

async function listObjects(store: RemoteStore, prefix: string, into: Set<string>): Promise<void> {
  for await (const key of store.list(prefix)) {
    const md5 = keyObject(key);
    if (md5) into.add(md5);
  }
}

/** The subset of `wanted` that is on the remote; how it was found (for tests and the curious). */
export async function objectsOnRemote(store: RemoteStore, wanted: ReadonlySet<string>, jobs: number): Promise<{ found: Set<string>; method: 'head' | 'list' | 'none' }> {
  const found = new Set<string>();
  if (wanted.size === 0) return { found, method: 'none' };
  const head = async (md5s: string[]) => {
    await pool(md5s, jobs, async (md5) => {
      if (await withRetries(() => store.exists(objectKey(md5)))) found.add(md5);
    });
  };
  // No more objects than requests in flight: their HEADs take one round trip, as the sample listing would.
  if (!store.prefersListing || wanted.size <= Math.min(jobs, 8)) {
    await head([...wanted]);
    return { found, method: 'head' };
  }
  const sample = new Set<string>();
  await withRetries(() => listObjects(store, 'files/md5/00/', sample));
  const estimated = Math.max(1, sample.size) * 256;
  const pages = estimated / PAGE;
  const weight = estimated > TRAVERSE_THRESHOLD ? pages * TRAVERSE_WEIGHT : pages;
  if (wanted.size < weight) {
    for (const md5 of wanted) if (sample.has(md5)) found.add(md5);
    await head([...wanted].filter((md5) => !sample.has(md5)));
    return { found, method: 'head' };
  }
  // Listing: the whole of `files/md5/` at once for a small remote, else its 256 prefixes in parallel.
  const all = new Set(sample);
  const prefixes = pages < 256 / jobs ? ['files/md5/'] : Array.from({ length: 255 }, (_, i) => `files/md5/${(i + 1).toString(16).padStart(2, '0')}/`);
  await pool(prefixes, jobs, (prefix) => withRetries(() => listObjects(store, prefix, all)));
  for (const md5 of wanted) if (all.has(md5)) found.add(md5);
  return { found, method: 'list' };
}
