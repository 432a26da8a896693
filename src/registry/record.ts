import type { ModelVersion } from './store.js';

// What a registry keeps of a version beyond MLflow's fields (content, files, metrics, lineage), in one
// JSON record that never changes: the file store writes it as mlops-version.json beside the version's
// meta.yaml, the SQL store as the version's `mlops.version` tag.

/** MLflow's stages; aliases replaced them, so a live version is `None` and a deleted one is marked. */
export const STAGE_NONE = 'None';
export const STAGE_DELETED = 'Deleted_Internal';

export interface VersionRecord {
  format: 'mlops-model-version/1';
  content: string;
  files: ModelVersion['files'];
  metrics: ModelVersion['metrics'];
  lineage: ModelVersion['lineage'];
}

export function versionRecord(v: Pick<ModelVersion, 'content' | 'files' | 'metrics' | 'lineage'>): VersionRecord {
  return { format: 'mlops-model-version/1', content: v.content, files: v.files, metrics: v.metrics, lineage: v.lineage };
}

const MD5 = /^[0-9a-f]{32}$/;

/**
 * Our version record, checked: its md5s name objects in the store, so one that is not an md5 (say
 * `../../x`) must never become a path.
 */
export function parseRecord(text: string): VersionRecord {
  const record = JSON.parse(text) as VersionRecord;
  const ok =
    record?.format === 'mlops-model-version/1' &&
    typeof record.content === 'string' && MD5.test(record.content.replace(/\.dir$/, '')) && record.content.endsWith('.dir') &&
    record.files !== null && typeof record.files === 'object' && Object.values(record.files).every((md5) => typeof md5 === 'string' && MD5.test(md5)) &&
    record.lineage !== null && typeof record.lineage === 'object' && record.metrics !== null && typeof record.metrics === 'object';
  if (!ok) throw new Error('unexpected content');
  return record;
}
