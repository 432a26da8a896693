import { existsSync } from 'node:fs';
import { readYamlFile, type ReadRecorder } from '../core/yaml.js';
import { LockFile, type LockEntry } from './lockfile.js';

/** Reads a lock file (DVC's schema 2.0); a missing one is empty, a damaged one a located error. */
export function readLockFile(path: string, reads?: ReadRecorder): LockFile {
  if (!existsSync(path)) {
    reads?.record(path); // one appearing later (written by DVC, say) must invalidate a cached parse
    return new LockFile(path, {});
  }
  const source = readYamlFile(path, reads);
  const doc = source.value as { schema?: unknown; stages?: unknown } | null;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw source.error([], 'expected a mapping');
  if (doc.schema !== '2.0') throw source.error(['schema'], `unsupported lock schema '${String(doc.schema)}' (expected '2.0')`);
  const stages = doc.stages ?? {};
  if (typeof stages !== 'object' || Array.isArray(stages)) throw source.error(['stages'], 'expected a mapping');
  return new LockFile(path, stages as Record<string, LockEntry>);
}
