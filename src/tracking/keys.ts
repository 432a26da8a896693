import { posix } from 'node:path';
import { UsageError } from '../core/errors.js';

// MLflow's reader validates every file name under params/, metrics/ and tags/ when it loads a run, and
// one bad name makes the whole run unreadable there. So the writer refuses such keys up front.

export type KeyKind = 'metric' | 'param' | 'tag';

// MLflow's pattern is `^[/\w.\- ]*$`; we keep to the ASCII subset so the names also stay portable.
const VALID_KEY = /^[/A-Za-z0-9_.\- ]*$/;
const MAX_KEY_LENGTH = 250;
const MAX_PARAM_VALUE_LENGTH = 6000;
const MAX_TAG_VALUE_LENGTH = 5000;
const RUN_ID = /^[a-zA-Z0-9][\w-]{0,255}$/;
const EXPERIMENT_ID = /^[a-zA-Z0-9][\w-]{0,63}$/;

/** The reason `key` is not a valid MLflow key, or undefined when it is. */
export function keyProblem(key: string): string | undefined {
  if (key === '') return 'a key name must be provided';
  if (!VALID_KEY.test(key)) return 'names may only contain letters, digits, _ - . / and spaces';
  if (key.length > MAX_KEY_LENGTH) return `longer than ${MAX_KEY_LENGTH} characters`;
  // The key becomes a path: it must not resolve to another name (`a//b`, `a/./b`, `x/`, `../x`, `/x`).
  const norm = posix.normalize(key).replace(/(.)\/$/, '$1');
  if (norm !== key || norm === '.' || norm.startsWith('..') || norm.startsWith('/')) {
    return `names are file paths and this one would resolve to '${norm}'`;
  }
  return undefined;
}

export function validateKey(kind: KeyKind, key: string): void {
  const problem = keyProblem(key);
  if (problem) throw new UsageError(`invalid ${kind} name '${key}': ${problem}`);
}

export function validateValueLength(kind: 'param' | 'tag', key: string, value: string): void {
  const limit = kind === 'param' ? MAX_PARAM_VALUE_LENGTH : MAX_TAG_VALUE_LENGTH;
  if (value.length > limit) throw new UsageError(`${kind} '${key}': value has ${value.length} characters, the limit is ${limit}`);
}

export function isValidExperimentId(id: string): boolean {
  return EXPERIMENT_ID.test(id);
}

export function validateRunId(id: string): void {
  if (!RUN_ID.test(id)) throw new UsageError(`invalid run id '${id}'`);
}

/** A metric point as every store accepts it: a valid key, a number, an integer step, epoch milliseconds. */
export function validateMetric(m: { key: string; value: unknown; step: number; timestamp: number }): void {
  validateKey('metric', m.key);
  if (typeof m.value !== 'number') throw new UsageError(`metric '${m.key}': value must be a number`);
  if (!Number.isInteger(m.step)) throw new UsageError(`metric '${m.key}': step must be an integer, not ${m.step}`);
  if (!Number.isInteger(m.timestamp) || m.timestamp < 0) throw new UsageError(`metric '${m.key}': timestamp must be epoch milliseconds`);
}

/** Tags as every store accepts them: valid keys, values within MLflow's limit. */
export function validateTags(tags: Record<string, string>): void {
  for (const [key, value] of Object.entries(tags)) {
    validateKey('tag', key);
    validateValueLength('tag', key, value);
  }
}

/** Params as every store accepts them. */
export function validateParams(params: Record<string, string>): void {
  for (const [key, value] of Object.entries(params)) {
    validateKey('param', key);
    validateValueLength('param', key, value);
  }
}
