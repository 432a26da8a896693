import { statSync, type Stats } from 'node:fs';

/** The part of a stat that identifies a version of a file. */
export type FileStat = Pick<Stats, 'ino' | 'mtimeMs' | 'size'>;

/** A version of a file without reading it: (inode, mtime, size). */
export const statSignature = (stat: FileStat): string => `${stat.ino}\t${stat.mtimeMs}\t${stat.size}`;

/** The signature of the file at `path` now, or 'absent'. */
export function pathSignature(path: string): string {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat ? statSignature(stat) : 'absent';
}
