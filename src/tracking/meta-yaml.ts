import { parse } from 'yaml';

// meta.yaml as MLflow writes it (PyYAML, sorted keys, block style): one `key: scalar` per line. Reading
// 10,000 of them with a general YAML parser dominates `runs list`, so a line reader handles exactly that
// shape and hands anything else (comments, wrapped lines, double quotes, flow maps) to the real parser.

export type MetaScalar = string | number | null;
export type MetaFields = Record<string, MetaScalar | readonly never[]>;

// Plain scalars PyYAML (YAML 1.1) would not read back as a string; we quote these when writing.
const RESERVED = /^(?:null|~|true|false|yes|no|on|off|y|n)$/i;
const SAFE_PLAIN = /^[A-Za-z/][\w\-.:/]*$/;
const LINE = /^([A-Za-z_]\w*):(?: (.*))?$/;

function isSafePlain(value: string): boolean {
  return SAFE_PLAIN.test(value) && !RESERVED.test(value);
}

function emitScalar(value: MetaScalar | readonly never[], alwaysQuote: boolean): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return '[]';
  if (typeof value === 'number') return String(value);
  const text = value as string;
  if (isSafePlain(text) && !alwaysQuote) return text;
  // Control characters need escapes, which only double-quoted YAML (a superset of JSON strings) has.
  if (/[\u0000-\u001f\u007f]/.test(text)) return JSON.stringify(text);
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * YAML text with sorted keys, block style. Ids are always quoted (`experiment_id: '0'`): a hex run id
 * such as `1234e567...` would otherwise read back as a number in YAML 1.1.
 */
export function emitMeta(fields: MetaFields, quoted: readonly string[] = []): string {
  return Object.keys(fields)
    .sort()
    .map((key) => `${key}: ${emitScalar(fields[key]!, quoted.includes(key))}\n`)
    .join('');
}

/** The fields of a meta.yaml; throws (with the parser's message) when the text is not a YAML mapping. */
export function readMeta(text: string): Record<string, unknown> {
  return readFlat(text) ?? readGeneral(text);
}

function readFlat(text: string): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const match = LINE.exec(line);
    if (!match) return undefined;
    const key = match[1]!;
    if (key in out) return undefined; // let the general parser report the duplicate
    const value = readFlatScalar(match[2] ?? '');
    if (value === undefined) return undefined;
    out[key] = value;
  }
  return out;
}

function readFlatScalar(raw: string): unknown {
  if (raw === '' || raw === 'null' || raw === '~') return null;
  if (/^-?(?:0|[1-9]\d*)$/.test(raw)) return Number(raw);
  if (raw === '[]') return [];
  if (raw.startsWith("'")) {
    const inner = raw.slice(1, -1);
    if (raw.length < 2 || !raw.endsWith("'") || inner.replace(/''/g, '').includes("'")) return undefined;
    return inner.replace(/''/g, "'");
  }
  return isSafePlain(raw) ? raw : undefined;
}

function readGeneral(text: string): Record<string, unknown> {
  // PyYAML reads YAML 1.1, so `yes`/`no` are booleans there too.
  const value: unknown = parse(text, { version: '1.1', maxAliasCount: 100, uniqueKeys: true });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a YAML mapping');
  return value as Record<string, unknown>;
}
