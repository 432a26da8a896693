import Papa from 'papaparse';

/** The cells of delimited text, row by row (RFC 4180 quoting; blank lines skipped). */
export function parseRows(text: string, delimiter = ','): string[][] {
  return Papa.parse<string[]>(text, { delimiter, skipEmptyLines: 'greedy' }).data;
}

function field(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV text: quotes only where a field needs them, a newline after every row. */
export function formatCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header, ...rows].map((r) => r.map(field).join(',')).join('\n') + '\n';
}
