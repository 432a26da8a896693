import { ConfigError } from '../core/errors.js';
import { parseYaml } from '../core/yaml.js';
import { parseDelimited } from '../metrics/parse.js';
import type { TreeReader } from '../metrics/tree.js';
import { joinRel, symlinkEscape } from '../pipeline/parse/paths.js';

export type Row = Record<string, unknown>;

/** Where plot data is read: the workspace or a git revision of the project at `root`. */
export interface DataSource {
  readonly root: string;
  readonly tree: TreeReader;
}

/** A data file's text, or null when it does not exist (the chart is then skipped, not an error). */
export function readData(source: DataSource, file: string): Promise<string | null> {
  // The page embeds what it reads: a path from the pipeline file may not bring in a file from elsewhere.
  const rel = joinRel('.', file);
  if (rel === null || symlinkEscape(source.root, rel)) throw new ConfigError(`plot data '${file}' is outside the project`);
  return source.tree.read(rel);
}

/**
 * Records of a plot data file, as DVC reads them: CSV/TSV rows, or a JSON/YAML list of records, or a
 * mapping whose first list value is the records (`{"roc": [{...}, ...]}`).
 */
export function parseRows(text: string, file: string): Row[] {
  const ext = file.slice(file.lastIndexOf('.') + 1).toLowerCase();
  if (ext === 'csv' || ext === 'tsv') return parseDelimited(text, ext === 'csv' ? ',' : '\t');
  const value = parseYaml(text, file).value;
  const list = Array.isArray(value)
    ? value
    : value && typeof value === 'object'
      ? Object.values(value).find(Array.isArray)
      : undefined;
  if (!list) throw new ConfigError('expected a list of records (or a mapping holding one)', { file });
  return list.filter((r): r is Row => r !== null && typeof r === 'object' && !Array.isArray(r));
}
