import { ConfigError } from '../core/errors.js';
import { readText } from '../core/files.js';

/** One CSV file as named columns of raw cells (numbers, strings, booleans; null when empty). */
export interface Table {
  readonly file: string;
  readonly columns: readonly string[];
  readonly values: ReadonlyMap<string, readonly unknown[]>;
}

/**
 * Reads a CSV with papaparse and the options danfojs-node's readCSV passes it (header row, dynamic
 * typing: numbers become doubles, empty cells null), so cells are typed exactly as the project's
 * data frames type them. Called directly because, measured on this machine, importing danfojs-node
 * costs 1.2-1.7 s per run and its readCSV takes twice papaparse's time on a million rows.
 */
export async function readTable(file: string, shownAs = file): Promise<Table> {
  const { text } = readText(file);
  const { default: Papa } = await import('papaparse');
  const parsed = Papa.parse<Record<string, unknown>>(text, { header: true, dynamicTyping: true, skipEmptyLines: 'greedy', delimiter: ',' });
  const problem = parsed.errors[0];
  if (problem) throw new ConfigError(`row ${(problem.row ?? 0) + 1}: ${problem.message}`, { file: shownAs });
  const columns = parsed.meta.fields ?? [];
  if (columns.length === 0 || parsed.data.length === 0) throw new ConfigError('no data rows (empty sample)', { file: shownAs });
  const values = new Map<string, unknown[]>();
  for (const c of columns) values.set(c, parsed.data.map((row) => row[c] ?? null));
  return { file: shownAs, columns, values };
}
