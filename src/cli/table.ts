/** A plain text table with aligned columns: stable for CI logs and readable at a terminal. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** A GitHub-flavoured markdown table, for CI job summaries. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n') + '\n';
}

/** The columns a terminal shows: its width on a terminal; undefined (no limit) when piped or in CI. */
export async function terminalWidth(): Promise<number | undefined> {
  const { interactive } = await import('./output.js');
  return interactive ? process.stdout.columns || 80 : undefined;
}

const CELL_MAX = 24;

/**
 * The table cut to `width` characters a line, as DVC's table does on a terminal: cells and headers
 * longer than `cellMax` end in `…`, and the columns after the last that fits are left out (`hidden`
 * of them); the first `fixed` columns always stay.
 */
export function fitTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  width: number,
  fixed = 1,
  cellMax = CELL_MAX,
): { header: string[]; rows: string[][]; hidden: number } {
  const cut = (c: string) => (c.length > cellMax ? `${c.slice(0, cellMax - 1)}…` : c);
  const cells = [header, ...rows].map((r) => r.map(cut));
  let used = 0;
  let kept = 0;
  for (let i = 0; i < header.length; i++) {
    const w = Math.max(...cells.map((r) => (r[i] ?? '').length)) + (i ? 2 : 0);
    if (i >= fixed && used + w > width) break;
    used += w;
    kept = i + 1;
  }
  const [head, ...body] = cells.map((r) => r.slice(0, kept));
  return { header: head!, rows: body, hidden: header.length - kept };
}
