import { parse } from 'yaml';

// meta.yaml as MLflow writes it (PyYAML, sorted keys, block style): one `key: scalar` per line. Reading
// 10,000 of them with a general YAML parser dominates `runs list`, so a line reader handles exactly that
// shape and hands anything else (comments, wrapped lines, double quotes, flow maps) to the real parser.

export type MetaScalar = string | number | null;
export type MetaFields = Record<string, MetaScalar | readonly never[]>;

// A plain scalar is written (and read back by the line reader) only when every YAML reader takes it as
// a string, as PyYAML decides when it dumps: not a bool/null word, and, when it starts with a digit, not
// made only of characters YAML's number and timestamp forms use (`1e5`, `1_000`, `2024-01-02`), nor hex (`0x1F`).
// A hex run id like `9d64a2...` stays plain, as in MLflow's files; `'0'` or `'1234'` are quoted.
const RESERVED = /^(?:null|~|true|false|yes|no|on|off|y|n)$/i;
const SAFE_PLAIN = /^[A-Za-z0-9/][\w\-.:/]*$/;
const NUMBER_LIKE = /^(?:[0-9][0-9extobz_:.+-]*|0x.*)$/i;
const LINE = /^([A-Za-z_]\w*):(?: (.*))?$/;

function isSafePlain(value: string): boolean {
  return SAFE_PLAIN.test(value) && !RESERVED.test(value) && !NUMBER_LIKE.test(value);
}

function emitScalar(value: MetaScalar | readonly never[]): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return '[]';
  if (typeof value === 'number') return String(value);
  const text = value as string;
  if (isSafePlain(text)) return text;
  // Control characters need escapes, which only double-quoted YAML (a superset of JSON strings) has.
  if (/[\u0000-\u001f\u007f]/.test(text)) return JSON.stringify(text);
  return `'${text.replace(/'/g, "''")}'`;
}

/** YAML text as PyYAML dumps it for MLflow: sorted keys, block style, `experiment_id: '0'`. */
export function emitMeta(fields: MetaFields): string {
  return Object.keys(fields)
    .sort()
    .map((key) => `${key}: ${emitScalar(fields[key]!)}\n`)
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
