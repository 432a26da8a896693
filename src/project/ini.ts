import { ConfigError } from '../core/errors.js';

// The INI dialect of `.dvc/config` (Python's configobj as DVC writes it): `[section]` or
// `['remote "name"']` headers, `key = value` lines (DVC indents them by four spaces), `#` or `;`
// comments. Parsed into lines kept in order, so an edit rewrites one line and keeps the rest.

/** `cache`, or `remote "name"` for a named section. */
export interface SectionId {
  readonly name: string;
  readonly label?: string;
}

export interface IniEntry {
  readonly section: SectionId;
  readonly key: string;
  readonly value: string;
  /** 1-based. */
  readonly line: number;
}

type Line = { kind: 'other'; text: string } | { kind: 'section'; id: SectionId; text: string } | { kind: 'entry'; id: SectionId; key: string; text: string };

const sectionText = (id: SectionId) => (id.label === undefined ? id.name : `${id.name} "${id.label}"`);
const sameSection = (a: SectionId, b: SectionId) => a.name === b.name && a.label === b.label;

/** An INI document: its entries, and edits that keep every other line as it was. */
export class IniDocument {
  private constructor(private readonly lines: Line[]) {}

  /** Parses `text`; a line that is neither a header, an entry nor a comment is an error at `file:line`. */
  static parse(text: string, file: string): IniDocument {
    const lines: Line[] = [];
    let section: SectionId | undefined;
    const rows = text.split(/\r?\n/);
    if (rows.at(-1) === '') rows.pop(); // the final newline ends the last line, it is not one more
    for (const [i, raw] of rows.entries()) {
      const trimmed = raw.trim();
      if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) {
        lines.push({ kind: 'other', text: raw });
        continue;
      }
      const header = /^\[\s*(.*?)\s*\]$/.exec(trimmed);
      if (header) {
        section = parseHeader(header[1]!, file, i + 1);
        lines.push({ kind: 'section', id: section, text: raw });
        continue;
      }
      const eq = trimmed.indexOf('=');
      if (eq <= 0) throw new ConfigError("expected '[section]' or 'key = value'", { file, line: i + 1 });
      if (!section) throw new ConfigError("'key = value' before any '[section]'", { file, line: i + 1 });
      lines.push({ kind: 'entry', id: section, key: trimmed.slice(0, eq).trim(), text: raw });
    }
    return new IniDocument(lines);
  }

  static empty(): IniDocument {
    return new IniDocument([]);
  }

  entries(): IniEntry[] {
    return this.lines.flatMap((l, i) => (l.kind === 'entry' ? [{ section: l.id, key: l.key, value: entryValue(l.text), line: i + 1 }] : []));
  }

  /** Sets `key` in the section (the section is added at the end when missing). */
  set(id: SectionId, key: string, value: string): void {
    const text = `    ${key} = ${value}`;
    const at = this.lines.findIndex((l) => l.kind === 'entry' && sameSection(l.id, id) && l.key === key);
    if (at >= 0) {
      this.lines[at] = { kind: 'entry', id, key, text };
      return;
    }
    const header = this.lines.findIndex((l) => l.kind === 'section' && sameSection(l.id, id));
    if (header < 0) {
      const label = id.label === undefined ? id.name : `'${sectionText(id)}'`;
      this.lines.push({ kind: 'section', id, text: `[${label}]` }, { kind: 'entry', id, key, text });
      return;
    }
    let end = header + 1;
    while (end < this.lines.length && this.lines[end]!.kind !== 'section') end++;
    while (end > header + 1 && this.lines[end - 1]!.kind === 'other' && this.lines[end - 1]!.text.trim() === '') end--;
    this.lines.splice(end, 0, { kind: 'entry', id, key, text });
  }

  /** Removes `key` (and its section once empty); false when it was not there. */
  unset(id: SectionId, key: string): boolean {
    const at = this.lines.findIndex((l) => l.kind === 'entry' && sameSection(l.id, id) && l.key === key);
    if (at < 0) return false;
    this.lines.splice(at, 1);
    if (!this.lines.some((l) => l.kind === 'entry' && sameSection(l.id, id))) {
      const header = this.lines.findIndex((l) => l.kind === 'section' && sameSection(l.id, id));
      if (header >= 0) this.lines.splice(header, 1);
    }
    return true;
  }

  toString(): string {
    return this.lines.length ? `${this.lines.map((l) => l.text).join('\n')}\n` : '';
  }
}

// `cache`, `remote "name"`, or configobj's quoted form `'remote "name"'`.
function parseHeader(inner: string, file: string, line: number): SectionId {
  const unquoted = /^'(.*)'$/.exec(inner)?.[1] ?? /^"(.*)"$/.exec(inner)?.[1] ?? inner;
  const named = /^([A-Za-z_][\w-]*)\s+"([^"]+)"$/.exec(unquoted);
  if (named) return { name: named[1]!, label: named[2]! };
  if (/^[A-Za-z_][\w-]*$/.test(unquoted)) return { name: unquoted };
  throw new ConfigError(`invalid section header '[${inner}]'`, { file, line });
}

// configobj strips one pair of matching quotes around a value.
function entryValue(text: string): string {
  const value = text.slice(text.indexOf('=') + 1).trim();
  const quoted = /^(['"])(.*)\1$/.exec(value);
  return quoted ? quoted[2]! : value;
}
