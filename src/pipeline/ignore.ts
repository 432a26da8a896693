// `.dvcignore` / `.mlopsignore`: gitignore-style patterns, each file applying below its own folder.
// Later patterns win, `!` re-includes, a trailing `/` matches folders only, a pattern with a `/` in it
// is anchored to the ignore file's folder, one without matches a name at any depth.

export const IGNORE_FILES = ['.dvcignore', '.mlopsignore'] as const;

interface Rule {
  /** Folder of the ignore file, relative to the root ('' for the root). */
  readonly base: string;
  readonly regex: RegExp;
  readonly negate: boolean;
  readonly dirOnly: boolean;
}

export class IgnoreRules {
  private readonly rules: Rule[] = [];

  /** Adds the patterns of an ignore file found in `base` (root-relative, '' for the root). */
  add(base: string, text: string): void {
    for (const raw of text.split(/\r?\n/)) {
      let pattern = raw.replace(/(?<!\\)\s+$/, '');
      if (!pattern || pattern.startsWith('#')) continue;
      const negate = pattern.startsWith('!');
      if (negate) pattern = pattern.slice(1);
      const dirOnly = pattern.endsWith('/');
      pattern = pattern.replace(/\/+$/, '');
      const anchored = pattern.includes('/');
      pattern = pattern.replace(/^\//, '');
      if (!pattern) continue;
      this.rules.push({ base, regex: new RegExp(`^${anchored ? '' : '(?:.*/)?'}${toRegex(pattern)}$`), negate, dirOnly });
    }
  }

  /** Whether the root-relative `rel` is ignored (its parents are assumed not to be). */
  ignored(rel: string, isDir: boolean): boolean {
    let result = false;
    for (const rule of this.rules) {
      if (rule.dirOnly && !isDir) continue;
      const inBase = rule.base === '' ? rel : rel.startsWith(`${rule.base}/`) ? rel.slice(rule.base.length + 1) : undefined;
      if (inBase !== undefined && rule.regex.test(inBase)) result = !rule.negate;
    }
    return result;
  }
}

function toRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slashAfter = glob[i + 2] === '/';
      out += slashAfter ? '(?:.*/)?' : '.*';
      i += slashAfter ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        out += `[${glob.slice(i + 1, end).replace(/^!/, '^').replaceAll('\\', '\\\\')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) out += `\\${glob[++i]}`;
    else out += /[.+^${}()|]/.test(c) ? `\\${c}` : c;
  }
  return out;
}
