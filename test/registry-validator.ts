import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// A validator of MLflow's model-registry folder layout (its FileStore and validation rules), written
// from the reference rather than from our writer, run over folders our code produced.

const MODEL_FIELDS = ['aliases', 'creation_timestamp', 'description', 'last_updated_timestamp', 'name'];
const VERSION_FIELDS = [
  'aliases', 'creation_timestamp', 'current_stage', 'description', 'last_updated_timestamp', 'name', 'run_id', 'run_link',
  'source', 'status', 'status_message', 'storage_location', 'user_id', 'version',
];
const STATUSES = ['PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY'];
const STAGES = ['None', 'Staging', 'Production', 'Archived', 'Deleted_Internal'];

function readYaml(path: string, problems: string[]): Record<string, unknown> {
  // PyYAML reads YAML 1.1.
  const value = parse(readFileSync(path, 'utf8'), { version: '1.1' }) as Record<string, unknown> | null;
  if (!value || typeof value !== 'object') problems.push(`${path}: not a mapping`);
  return value ?? {};
}

function sameKeys(path: string, meta: Record<string, unknown>, fields: string[], problems: string[]): void {
  const keys = Object.keys(meta).sort();
  if (keys.join() !== fields.join()) problems.push(`${path}: keys ${keys.join()} (MLflow writes ${fields.join()})`);
}

export function validateRegistryLayout(trackingDir: string): string[] {
  const problems: string[] = [];
  const models = join(trackingDir, 'models');
  for (const name of readdirSync(models)) {
    const dir = join(models, name);
    // MLflow reads every folder under models/ as a registered model.
    if (!statSync(dir).isDirectory()) continue;
    if (name === '' || name.includes('/') || name.includes('%')) problems.push(`${dir}: name breaks MLflow's rules`);
    const meta = readYaml(join(dir, 'meta.yaml'), problems);
    sameKeys(join(dir, 'meta.yaml'), meta, MODEL_FIELDS, problems);
    if (meta.name !== name) problems.push(`${dir}/meta.yaml: name ${String(meta.name)} is not the folder's`);
    for (const key of ['creation_timestamp', 'last_updated_timestamp']) if (!Number.isInteger(meta[key])) problems.push(`${dir}/meta.yaml: ${key} not an integer`);
    const live = new Set<string>();
    for (const entry of readdirSync(dir)) {
      const m = /^version-(.*)$/.exec(entry);
      if (!m) continue;
      const file = join(dir, entry, 'meta.yaml');
      const v = readYaml(file, problems);
      sameKeys(file, v, VERSION_FIELDS, problems);
      if (!/^[1-9]\d*$/.test(m[1]!) || v.version !== Number(m[1])) problems.push(`${file}: version ${String(v.version)} does not match ${entry}`);
      if (v.name !== name) problems.push(`${file}: name ${String(v.name)}`);
      if (!STATUSES.includes(String(v.status))) problems.push(`${file}: status ${String(v.status)}`);
      if (!STAGES.includes(String(v.current_stage))) problems.push(`${file}: current_stage ${String(v.current_stage)}`);
      if (!Array.isArray(v.aliases)) problems.push(`${file}: aliases not a list`);
      if (typeof v.source !== 'string') problems.push(`${file}: source not a string`);
      if (v.current_stage !== 'Deleted_Internal') live.add(m[1]!);
    }
    const aliasDir = join(dir, 'aliases');
    if (!existsSync(aliasDir)) continue;
    for (const alias of readdirSync(aliasDir)) {
      if (!/^[\w-]+$/.test(alias) || alias.toLowerCase() === 'latest' || /^[vV]\d+$/.test(alias)) problems.push(`${aliasDir}/${alias}: alias name breaks MLflow's rules`);
      const text = readFileSync(join(aliasDir, alias), 'utf8');
      if (!live.has(text)) problems.push(`${aliasDir}/${alias}: '${text}' is not a live version (MLflow reads the file's text as the version)`);
    }
  }
  return problems;
}
