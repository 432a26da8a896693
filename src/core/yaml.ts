import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { extname, resolve } from 'node:path';
import { readText } from './files.js';
import { pathSignature } from './signature.js';
import { ConfigError } from './errors.js';

/** A parsed YAML file that remembers where each value came from, so errors can name the line. */
export interface YamlSource {
  /** The path as shown in messages (relative to the working directory where possible). */
  readonly file: string;
  readonly value: unknown;
  /** Line (1-based) of the key at `path`, or of the nearest enclosing key that exists. */
  lineOf(path: readonly (string | number)[]): number | undefined;
  /** A ConfigError located at `path`, with the dotted key in the message. */
  error(path: readonly (string | number)[], detail: string): ConfigError;
}

// Aliases beyond this count are refused: a "billion laughs" document expands exponentially.
const MAX_ALIASES = 100;

/**
 * Every file one parse depended on (each YAML file read, and each file whose mere presence or
 * absence mattered), with its signature taken before use: a cache of what was parsed (the no-op
 * snapshot) is valid only while all of them still have that signature. One per parse, owned by it.
 */
export class ReadRecorder {
  private readonly files = new Map<string, string>();

  /** Records a file the parse depends on, read or not (say, one whose absence matters). */
  record(file: string): void {
    const abs = resolve(file);
    if (!this.files.has(abs)) this.files.set(abs, pathSignature(abs));
  }

  /** Absolute path -> signature (or 'absent') as first seen. */
  signatures(): Map<string, string> {
    return new Map(this.files);
  }
}

/** Parses a YAML file, recording it in `reads` when the caller keeps a cache of what it parsed. */
export function readYamlFile(file: string, reads?: ReadRecorder): YamlSource {
  reads?.record(file);
  const { file: shown, text } = readText(file);
  return parseYaml(text, shown);
}

/** Whether `path` names a file this reader takes: YAML, or JSON (which is YAML). */
export function readsAsYaml(path: string): boolean {
  return ['.yaml', '.yml', '.json'].includes(extname(path));
}

export function parseYaml(text: string, file: string): YamlSource {
  const lines = new LineCounter();
  // merge: `<<: *defaults` keys, which DVC's YAML reader accepts and real pipeline files use.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0].line ?? lines.linePos(first.pos[0]).line;
    throw new ConfigError(`invalid YAML: ${first.message.split('\n')[0]}`, { file, line });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    throw new ConfigError(`invalid YAML: ${(error as Error).message}`, { file });
  }
  const lineOf = (path: readonly (string | number)[]) => locate(doc, lines, path);
  return {
    file,
    value,
    lineOf,
    error: (path, detail) => new ConfigError(detail, { file, line: lineOf(path), key: path.join('.') || undefined }),
  };
}

function locate(doc: Document, lines: LineCounter, path: readonly (string | number)[]): number | undefined {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
      node = node.items[segment];
      offset = (node as Node).range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}
