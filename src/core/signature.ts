import { statSync, type Stats } from 'node:fs';

/** The part of a stat that identifies a version of a file (ctime too: it moves on every write, like mtime). */
export type FileStat = Pick<Stats, 'ino' | 'mtimeMs' | 'ctimeMs' | 'size'>;

/** A version of a file without reading it: (inode, mtime, ctime, size). */
export const statSignature = (stat: FileStat): string => `${stat.ino}\t${stat.mtimeMs}\t${stat.ctimeMs}\t${stat.size}`;

/**
 * Git's "racily clean" rule. On file systems with coarse timestamps (1 s on ext3, HFS+, some NFS; 2 s
 * on FAT) a write later in the same tick as the one we read leaves the stat unchanged, so a signature
 * is only worth remembering when the file's last change is a full tick older than the moment its stat
 * was taken (`seenAt`, read before the stat): then no later write can share its timestamps.
 */
const TICK_MS = 2000;

export function settled(stat: FileStat, seenAt: number): boolean {
  return Math.max(stat.mtimeMs, stat.ctimeMs) + TICK_MS <= seenAt;
}

/** Stored instead of a signature that is not settled yet: never equal to a signature taken later. */
export const UNSETTLED = 'unsettled';

/** The signature of the file at `path` now, or 'absent'; UNSETTLED when it changed too recently to trust. */
export function pathSignature(path: string): string {
  const seenAt = Date.now();
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 'absent';
  return settled(stat, seenAt) ? statSignature(stat) : UNSETTLED;
}
