import { UsageError } from '../core/errors.js';

// Tokens of MLflow's search grammar: `metrics.f1 > 0.9 and params.depth = '10'`. An entity token is
// `<prefix>.<key>` where the key may be bare (`train/loss`, `a.b`) or quoted with backticks or double
// quotes for odd names (`metrics.\`f1 score\``). Positions are kept so errors can point at the token.

export type TokenKind = 'entity' | 'word' | 'string' | 'number' | 'op' | '(' | ')' | ',' | 'end';

export interface Token {
  kind: TokenKind;
  /** The source text of the token, as shown in errors. */
  text: string;
  /** 1-based column in the filter string. */
  column: number;
  /** entity: the prefix; string: the unquoted value; word: upper-cased keyword. */
  value: string;
  /** entity only: the key after the prefix. */
  key?: string;
}

const WORD = /[A-Za-z_]\w*/y;
const BARE_KEY = /[\w.\-/:]+/y;
const NUMBER = /-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const OPERATOR = /(?:>=|<=|!=|<>|==|=|>|<)/y;

export function filterError(what: string, token: Token, subject = 'filter'): UsageError {
  const where = token.kind === 'end' ? 'at the end' : `at column ${token.column} (${JSON.stringify(token.text)})`;
  return new UsageError(`invalid ${subject} ${where}: ${what}`);
}

export function tokenize(input: string, subject = 'filter'): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const at = (re: RegExp) => {
    re.lastIndex = i;
    return re.exec(input)?.[0];
  };
  const fail = (what: string, start: number, end = start + 1): never => {
    throw filterError(what, { kind: 'word', text: input.slice(start, end), column: start + 1, value: '' }, subject);
  };
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    const push = (kind: TokenKind, value: string, key?: string) =>
      tokens.push({ kind, text: input.slice(start, i), column: start + 1, value, key });
    if (c === '(' || c === ')' || c === ',') {
      i++;
      push(c, c);
    } else if (c === "'" || c === '"') {
      const value = readQuoted(input, i, c) ?? fail('unterminated string', start, input.length);
      i = value.end;
      push('string', value.text);
    } else if (at(OPERATOR)) {
      const op = at(OPERATOR)!;
      i += op.length;
      push('op', op === '==' ? '=' : op === '<>' ? '!=' : op);
    } else if (at(NUMBER)) {
      i += at(NUMBER)!.length;
      push('number', input.slice(start, i));
    } else if (at(WORD)) {
      const word = at(WORD)!;
      i += word.length;
      if (input[i] !== '.') {
        push('word', word.toUpperCase());
        continue;
      }
      i++;
      const q = input[i];
      let key: string;
      if (q === '`' || q === '"') {
        const quoted = readQuoted(input, i, q) ?? fail('unterminated quoted key', start, input.length);
        key = quoted.text;
        i = quoted.end;
      } else {
        key = at(BARE_KEY) ?? fail(`expected a key name after '${word}.'`, start, i);
        i += key.length;
      }
      push('entity', word.toLowerCase(), key);
    } else {
      fail(`unexpected character '${c}'`, start);
    }
  }
  tokens.push({ kind: 'end', text: '', column: input.length + 1, value: '' });
  return tokens;
}

/** A quoted run starting at `start`; a doubled quote character stands for itself. */
function readQuoted(input: string, start: number, quote: string): { text: string; end: number } | undefined {
  let text = '';
  for (let i = start + 1; i < input.length; i++) {
    if (input[i] !== quote) {
      text += input[i];
    } else if (input[i + 1] === quote) {
      text += quote;
      i++;
    } else {
      return { text, end: i + 1 };
    }
  }
  return undefined;
}
