import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';

// A validator of MLflow's folder layout, written from the reference (not from our writer), run over
// folders our code produced.

const EXPERIMENT_FIELDS = ['artifact_location', 'creation_time', 'experiment_id', 'last_update_time', 'lifecycle_stage', 'name'];
const RUN_FIELDS = [
  'artifact_uri', 'deleted_time', 'end_time', 'entry_point_name', 'experiment_id', 'lifecycle_stage', 'run_id', 'run_name',
  'run_uuid', 'source_name', 'source_type', 'source_version', 'start_time', 'status', 'tags', 'user_id',
];
const METRIC_LINE = /^\d+ (-?\d+(\.\d+)?(e[+-]\d+)?|nan|inf|-inf) -?\d+$/;

export function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

function mlflowAcceptsKey(key: string): boolean {
  if (key.length > 250 || !/^[/\w.\- ]*$/.test(key)) return false;
  const norm = posix.normalize(key);
  return norm === key && norm !== '.' && !norm.startsWith('..') && !norm.startsWith('/') && !key.endsWith('/');
}

function checkMetaText(path: string, text: string, fields: string[], ids: string[], problems: string[]): Record<string, unknown> {
  const lines = text.split('\n').filter(Boolean);
  const keys = lines.map((l) => l.split(':')[0]!);
  if (keys.join() !== fields.join()) problems.push(`${path}: fields ${keys.join()} (want exactly, sorted: ${fields.join()})`);
  for (const line of lines) if (!/^[a-z_]+: \S/.test(line)) problems.push(`${path}: not one block-style 'key: value' line: ${line}`);
  const v11 = parse(text, { version: '1.1' }) as Record<string, unknown>;
  const v12 = parse(text, { version: '1.2' }) as Record<string, unknown>;
  // Ids are strings for every YAML reader (PyYAML reads 1.1); a numeric-looking one must be quoted.
  for (const id of ids) if (typeof v11[id] !== 'string' || typeof v12[id] !== 'string') problems.push(`${path}: ${id} does not read as a string`);
  if (/^experiment_id: '\d+'$/m.test(text) === false) problems.push(`${path}: experiment_id is not written quoted ('0')`);
  return v11;
}

function validateKeyFolder(dir: string, kind: string, problems: string[]): void {
  if (!existsSync(dir)) return;
  for (const key of filesUnder(dir)) {
    if (!mlflowAcceptsKey(key)) problems.push(`${dir}: ${kind} file name '${key}' breaks MLflow's reader`);
    const text = readFileSync(join(dir, key), 'utf8');
    if (kind === 'metric') {
      if (!text.endsWith('\n')) problems.push(`${dir}/${key}: metric file must end with a newline`);
      for (const line of text.split('\n').slice(0, -1)) if (!METRIC_LINE.test(line)) problems.push(`${dir}/${key}: bad metric line '${line}'`);
    } else if (text.endsWith('\n')) {
      problems.push(`${dir}/${key}: ${kind} value has a trailing newline`);
    }
  }
}

export const INCOMPLETE_RUN = 'run folder without meta.yaml (killed while being created)';

function validateRun(expDir: string, expId: string, artifactLocation: string, runId: string, problems: string[]): void {
  const dir = join(expDir, runId);
  if (!/^[0-9a-f]{32}$/.test(runId)) problems.push(`${dir}: run folder is not 32 lowercase hex characters`);
  if (!existsSync(join(dir, 'meta.yaml'))) {
    // A writer killed while creating the run: meta.yaml is written last, and readers (ours and MLflow's) skip such a folder.
    problems.push(`${dir}: ${INCOMPLETE_RUN}`);
    return;
  }
  const text = readFileSync(join(dir, 'meta.yaml'), 'utf8');
  const m = checkMetaText(join(dir, 'meta.yaml'), text, RUN_FIELDS, ['experiment_id', 'run_id', 'run_uuid'], problems);
  const expect = (ok: boolean, what: string) => ok || problems.push(`${dir}/meta.yaml: ${what}`);
  expect(m.run_id === runId && m.run_uuid === runId, 'run_id/run_uuid must equal the folder name');
  expect(m.experiment_id === expId, 'experiment_id must equal the experiment folder');
  expect(m.artifact_uri === `${artifactLocation}/${runId}/artifacts`, `artifact_uri ${String(m.artifact_uri)}`);
  expect(Number.isInteger(m.start_time), 'start_time must be an integer');
  expect(m.end_time === null || Number.isInteger(m.end_time), 'end_time must be null or an integer');
  expect(m.deleted_time === null || Number.isInteger(m.deleted_time), 'deleted_time must be null or an integer');
  expect([1, 2, 3, 4, 5].includes(m.status as number), 'status must be 1..5');
  expect(m.lifecycle_stage === 'active' || m.lifecycle_stage === 'deleted', 'lifecycle_stage');
  expect((m.lifecycle_stage === 'deleted') === Number.isInteger(m.deleted_time), 'deleted_time set exactly when deleted');
  expect(m.source_type === 4 && m.source_name === '' && m.source_version === '' && m.entry_point_name === '', 'source fields');
  expect(Array.isArray(m.tags) && (m.tags as unknown[]).length === 0, 'tags must be []');
  expect(typeof m.user_id === 'string' && m.user_id !== '', 'user_id must be a non-empty string');
  expect(typeof m.run_name === 'string', 'run_name must be a string');
  for (const entry of readdirSync(dir)) {
    if (!['meta.yaml', 'params', 'metrics', 'tags', 'artifacts'].includes(entry)) problems.push(`${dir}: unexpected entry '${entry}'`);
  }
  for (const sub of ['params', 'metrics', 'artifacts']) expect(existsSync(join(dir, sub)), `missing ${sub}/`);
  validateKeyFolder(join(dir, 'params'), 'param', problems);
  validateKeyFolder(join(dir, 'tags'), 'tag', problems);
  validateKeyFolder(join(dir, 'metrics'), 'metric', problems);
}

/** Every rule of the reference, over a whole mlruns/ folder; returns the problems found. */
export function validateMlruns(root: string): string[] {
  const problems: string[] = [];
  const experiments = [
    ...readdirSync(root).filter((n) => n !== '.trash' && n !== 'models').map((n) => join(root, n)),
    ...(existsSync(join(root, '.trash')) ? readdirSync(join(root, '.trash')).map((n) => join(root, '.trash', n)) : []),
  ];
  for (const expDir of experiments) {
    if (!statSync(expDir).isDirectory()) {
      problems.push(`${expDir}: stray file in the tracking root`);
      continue;
    }
    const expId = posix.basename(expDir);
    const e = checkMetaText(join(expDir, 'meta.yaml'), readFileSync(join(expDir, 'meta.yaml'), 'utf8'), EXPERIMENT_FIELDS, ['experiment_id'], problems);
    if (e.experiment_id !== expId) problems.push(`${expDir}: experiment_id ${String(e.experiment_id)} is not the folder name`);
    if (!/^\d+$/.test(expId)) problems.push(`${expDir}: experiment id is not an integer string`);
    if (e.artifact_location !== pathToFileURL(join(root, expId)).href) problems.push(`${expDir}: artifact_location ${String(e.artifact_location)}`);
    if (!Number.isInteger(e.creation_time) || !Number.isInteger(e.last_update_time)) problems.push(`${expDir}: times must be integers`);
    if (typeof e.name !== 'string' || e.name === '') problems.push(`${expDir}: name`);
    validateKeyFolder(join(expDir, 'tags'), 'tag', problems);
    for (const entry of readdirSync(expDir, { withFileTypes: true })) {
      if (entry.name === 'meta.yaml' || entry.name === 'tags') continue;
      if (!entry.isDirectory()) problems.push(`${expDir}: stray file '${entry.name}'`);
      else validateRun(expDir, expId, String(e.artifact_location), entry.name, problems);
    }
  }
  return problems;
}

