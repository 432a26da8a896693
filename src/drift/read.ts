import { existsSync, statSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';

/** One CSV file as named columns of raw cell values (numbers, strings, booleans; null when empty). */
export interface Table {
  readonly file: string;
  readonly columns: readonly string[];
  readonly values: ReadonlyMap<string, readonly unknown[]>;
}

/**
 * Reads a CSV with danfojs-node (imported here, lazily: it costs about a second). Cell typing is
 * papaparse's: numbers become doubles, empty cells null.
 */
export async function readTable(file: string, shownAs = file): Promise<Table> {
  if (!existsSync(file)) throw new ConfigError('file not found', { file: shownAs });
  if (!statSync(file).isFile()) throw new ConfigError('not a file', { file: shownAs });
  const { readCSV } = await import('danfojs-node');
  let frame: Awaited<ReturnType<typeof readCSV>>;
  try {
    frame = await readCSV(file);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]!;
    throw new ConfigError(/no data/i.test(reason) ? 'no data rows (empty sample)' : `cannot read as CSV (${reason})`, { file: shownAs });
  }
  const columns = frame.columns.map(String);
  const values = new Map<string, unknown[]>();
  for (const c of columns) values.set(c, frame.shape[0] === 0 ? [] : (frame.column(c).values as unknown[]));
  return { file: shownAs, columns, values };
}
