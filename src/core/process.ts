import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';

// Who owns a lock or a run: a pid alone is not enough, as pids are reused (pid 1 after a container
// restart, any pid after enough forks). The kernel's start time of the process tells a reused pid apart.

export interface ProcessRef {
  readonly pid: number;
  /** /proc/PID/stat start time (clock ticks since boot); absent where there is no /proc. */
  readonly start?: string;
  readonly host?: string;
}

/** The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat (index 19 after the name). */
function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

export function currentProcess(): ProcessRef {
  const start = processStartTime(process.pid);
  return { pid: process.pid, host: hostname(), ...(start === undefined ? {} : { start }) };
}

/** true or false; undefined for a process of another host, which cannot be checked from here. */
export function processAlive(ref: ProcessRef): boolean | undefined {
  if (ref.host !== undefined && ref.host !== hostname()) return undefined;
  if (!signalReaches(ref.pid)) return false;
  const fields = statFields(ref.pid);
  if (fields === undefined) return true; // no /proc: the signal test is all there is
  return fields[0] !== 'Z' && (ref.start === undefined || fields[19] === ref.start);
}

/**
 * Whether any live process of the group `pgid` still exists. A zombie (dead, not yet reaped: some
 * container init processes never reap) does not count, so /proc is scanned where there is one.
 */
export function groupAlive(pgid: number): boolean {
  if (!existsSync('/proc/self/stat')) return signalReaches(-pgid);
  if (!signalReaches(-pgid)) return false;
  return readdirSync('/proc').some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    const fields = statFields(Number(entry));
    return fields !== undefined && fields[0] !== 'Z' && Number(fields[2]) === pgid;
  });
}

function signalReaches(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` is this process or one of its ancestors (parent, grandparent...). */
export function isSelfOrAncestor(pid: number): boolean {
  for (let current = process.pid, hops = 0; current > 1 && hops < 64; hops++) {
    if (current === pid) return true;
    const parent = Number(statFields(current)?.[1]);
    if (!Number.isInteger(parent) || parent === current) return false;
    current = parent;
  }
  return false;
}
