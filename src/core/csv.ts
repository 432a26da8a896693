import Papa from 'papaparse';

/** The cells of delimited text, row by row (RFC 4180 quoting; blank lines skipped). */
export function parseRows(text: string, delimiter = ','): string[][] {
  return Papa.parse<string[]>(text, { delimiter, skipEmptyLines: 'greedy' }).data;
}
