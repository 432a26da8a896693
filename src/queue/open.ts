import { join } from 'node:path';
import { valueError } from '../project/config.js';
import type { Project } from '../project/project.js';
import { LocalQueue } from './local.js';
import { DEFAULT_STALL_MS, type JobQueue } from './queue.js';

// Which queue a project uses: BullMQ on the broker `queue.url` names, else the embedded one under
// `.mlops/queue/`. Experiments and grid folds are two queues, so a worker busy with an experiment whose
// train stage fans out can still take folds.

export type QueueName = 'experiments' | 'folds';

export interface QueueSettings {
  /** The broker's URL; undefined for the embedded queue. */
  readonly url?: string;
  readonly prefix: string;
  readonly stallMs: number;
}

export function queueSettings(project: Project): QueueSettings {
  const { config } = project;
  const url = config.get('queue.url');
  const prefix = config.get('queue.prefix');
  if (prefix && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(prefix.value)) throw valueError(prefix, 'expected letters, digits and . _ - only');
  const timeout = config.get('queue.visibility_timeout');
  const seconds = timeout === undefined ? DEFAULT_STALL_MS / 1000 : Number(timeout.value);
  if (timeout && !(Number.isFinite(seconds) && seconds >= 1)) throw valueError(timeout, `expected a number of seconds >= 1, got '${timeout.value}'`);
  if (url) {
    const problem = redisUrlProblem(url.value);
    if (problem) throw valueError(url, problem);
  }
  return { ...(url ? { url: url.value } : {}), prefix: prefix?.value ?? 'mlops', stallMs: seconds * 1000 };
}

export async function openQueue(project: Project, name: QueueName): Promise<JobQueue> {
  const settings = queueSettings(project);
  if (settings.url === undefined) {
    project.ensureMlopsDir(); // its .gitignore keeps the queue out of git status
    return new LocalQueue(join(project.mlopsDir, 'queue', name));
  }
  const { BullQueue } = await import('./bullmq.js');
  return BullQueue.open(settings.url, settings.prefix, name);
}

function redisUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `not a URL: '${url}'`;
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `expected redis://host:port/db (or rediss:// for TLS), got '${url}'`;
  if (!/^\/?\d*$/.test(parsed.pathname)) return `the database in '${url}' must be a number`;
  return undefined;
}
