import { parseRows } from '../core/csv.js';
import { ConfigError } from '../core/errors.js';
import { flatten } from '../core/flatten.js';
import { parseYaml } from '../core/yaml.js';

/** Flattened `key -> value` of one metrics or params file. */
export type Values = Record<string, unknown>;

/**
 * Parses a metrics/params file by its extension: JSON or YAML (a mapping, flattened to dotted keys),
 * or CSV/TSV (the last row, keyed by the header, numbers as numbers), as DVC reads them.
 * `where` names the file (and revision) in error messages.
 */
export function parseValues(text: string, path: string, where = path): Values {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  if (ext === 'csv' || ext === 'tsv') return lastRow(text, ext === 'csv' ? ',' : '\t', where);
  const top = parseYaml(text, where).value; // YAML 1.2 is a superset of JSON
  if (top === null || top === undefined) return {};
  if (typeof top !== 'object' || Array.isArray(top)) throw new ConfigError('expected a mapping of metrics', { file: where });
  return flatten(top);
}

/** Rows of a delimited file as records (header = first line); numeric cells become numbers. */
export function parseDelimited(text: string, sep: string): Record<string, string | number>[] {
  const [first = [], ...rows] = parseRows(text, sep);
  const header = first.map((h) => h.trim());
  return rows.map((cells) => Object.fromEntries(header.map((h, i) => [h, cell(cells[i] ?? '')])));
}

function cell(raw: string): string | number {
  const text = raw.trim();
  const n = Number(text);
  return text !== '' && Number.isFinite(n) ? n : text;
}

function lastRow(text: string, sep: string, where: string): Values {
  const rows = parseDelimited(text, sep);
  const last = rows[rows.length - 1];
  if (!last) throw new ConfigError('no data row under the header', { file: where });
  return last;
}
