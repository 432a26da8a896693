// Issue 9: seeded fuzzing of what users hand us (pipeline and params files, run filters, CSV files).
// Each case must either work or fail as an MlopsError (one line, exit 0/1/2 through the CLI); any other
// error is what the CLI would print as an internal error with a stack trace. Most cases run in process
// (the CLI's own code paths, hundreds of cases in seconds); a few go through the real CLI end to end.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MlopsError } from '../src/core/errors.js';
import { detectDrift } from '../src/drift/detect.js';
import { readTable } from '../src/drift/read.js';
import { readColumns } from '../src/core/csv-columns.js';
import { loadPipeline } from '../src/pipeline/load.js';
import { matches, parseFilter, type RunFields } from '../src/tracking/filter.js';
import { runMlops, seededRandom, tempDir, writeFiles } from './helpers.js';

const SEED = 20261130;

class Fuzz {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Random edits of a text: deleted, duplicated or inserted characters. */
  mangle(text: string, edits: number): string {
    let s = text;
    for (let i = 0; i < edits; i++) {
      const at = this.int(s.length + 1);
      const op = this.int(3);
      if (op === 0) s = s.slice(0, at) + s.slice(at + 1);
      else if (op === 1) s = s.slice(0, at) + s.slice(at, at + 4) + s.slice(at);
      else s = s.slice(0, at) + this.pick([':', '-', ' ', '\n', '[', '{', '"', "'", '$', '}', '&a', '*a', '\t', '#', '\\', '%']) + s.slice(at);
    }
    return s;
  }
}

/** Runs `body`; an MlopsError is an accepted outcome, anything else fails the case with its input. */
async function accepts(label: string, input: unknown, body: () => unknown): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof MlopsError && error.kind !== 'interrupted') return; // exit 1 or 2
    assert.fail(`${label}: ${error instanceof Error ? error.stack : String(error)}\ninput: ${JSON.stringify(input)}`);
  }
}

// ---- pipeline files

const PATHS = ['data.csv', 'out', 'out/x', '../up', '/abs/path', 'mlruns', '.mlops/x', 'params.yaml', '', '.', 'a b', '${item}', '${key}/f', '${missing}', 'C:\\\\x', 'x\\\\..\\\\..\\\\y'];
const SCALARS = ['1', '-1', '0.5', '1e308', 'true', 'null', '~', '""', "''", '[]', '{}', 'x', '${item}', '${a.b}', '${lst[0]}', '${ {a} }', '"${"', '.inf', '.nan', '0x10'];

function pipelineText(f: Fuzz): string {
  const lines: string[] = [];
  if (f.chance(0.3)) lines.push(`vars:\n  - ${f.pick(['params.yaml', 'missing.yaml', 'v.yaml', '{a: 1}', '../x.yaml'])}`);
  lines.push('stages:');
  const stages = f.int(4);
  for (let s = 0; s < stages; s++) {
    lines.push(`  ${f.pick(['a', 'b', 'train', 'a@b', 'x/y', 's', '"1"', 'toString', '__proto__'])}:`);
    const kind = f.int(4);
    if (kind === 1) lines.push(`    foreach: ${f.pick(['[1, 2, 3]', '${lst}', '{us: 1, eu: 2}', 'x', '[]', '[{a: 1}, [2]]', '${a}'])}`, '    do:');
    if (kind === 2) lines.push('    matrix:', `      p: ${f.pick(['[1, 2]', '[]', 'x', '[{a: 1}]', '${lst}'])}`, `      q: ${f.pick(['[a, b]', '[1]', 'null'])}`);
    const pad = kind === 1 ? '      ' : '    ';
    if (f.chance(0.9)) lines.push(`${pad}cmd: ${f.pick(['echo hi', '[echo a, echo b]', '${item}', '', 'null', '[]', '${missing}', 'echo ${a.b}'])}`);
    for (const key of ['deps', 'outs', 'metrics', 'plots']) {
      if (f.chance(0.5)) lines.push(`${pad}${key}:`, ...Array.from({ length: f.int(3) + 1 }, () => `${pad}  - ${f.pick(PATHS)}`));
    }
    if (f.chance(0.3)) lines.push(`${pad}params:`, `${pad}  - ${f.pick(['lr', 'a.b', 'other.yaml: [x]', 'missing.yaml:', '__proto__', '{}'])}`);
    if (f.chance(0.2)) lines.push(`${pad}${f.pick(['wdir', 'frozen', 'always_changed', 'desc', 'meta', 'unknown_key'])}: ${f.pick(SCALARS)}`);
  }
  if (f.chance(0.3)) lines.push(`${f.pick(['params', 'metrics', 'plots'])}:`, `  - ${f.pick(PATHS)}`);
  if (f.chance(0.1)) lines.push(`${f.pick(['junk', 'stages', 'vars'])}: ${f.pick(SCALARS)}`);
  const text = `${lines.join('\n')}\n`;
  return f.chance(0.35) ? f.mangle(text, 1 + f.int(4)) : text;
}

function paramsText(f: Fuzz): string {
  const text = f.pick([
    'lr: 0.1\na:\n  b: 2\nlst: [1, 2]\n',
    'lr: [1\n',
    '- 1\n- 2\n',
    '',
    'a: &x {b: 1}\nc: *x\n',
    'tracking:\n  dir: 5\n',
    `a:\n  b: ${'['.repeat(50)}`,
  ]);
  return f.chance(0.2) ? f.mangle(text, 2) : text;
}

test('fuzzed pipeline and params files: a pipeline or one located config error, never a crash', async (t) => {
  const f = new Fuzz(seededRandom(SEED));
  const dir = tempDir(t);
  for (let i = 0; i < 250; i++) {
    const files = { 'pipeline.yaml': pipelineText(f), 'params.yaml': paramsText(f), 'v.yaml': 'a:\n  b: 1\n' };
    rmSync(join(dir, 'params.yaml'), { force: true });
    writeFiles(dir, f.chance(0.1) ? { 'pipeline.yaml': files['pipeline.yaml'] } : files);
    await accepts(`pipeline case ${i} (seed ${SEED})`, files, () => void loadPipeline(dir));
  }
});

// ---- filters

const FILTER_TOKENS = [
  'metrics.f1', 'params.lr', 'tags.t', 'attributes.status', 'attr.run_id', 'run.start_time', 'metrcs.x', 'params.`odd key`', 'params."q"',
  "'x'", "'%a_'", "'it''s'", '"dq"', '1.5', '-2e3', '1e400', '.5', '=', '!=', '<>', '==', '>', '>=', '<', '<=', 'LIKE', 'ilike', 'IN', 'NOT',
  'AND', 'or', '(', ')', ',', "'", '`', '&', 'status', 'created', 'datasets.name', 'dataset.colour', 'params.', '\u00e9', "('a', 'b')",
];

test('fuzzed run filters: a match result or one usage error, never a crash', async () => {
  const f = new Fuzz(seededRandom(SEED + 1));
  const run: RunFields = {
    metric: (k) => ({ f1: 0.9, x: NaN })[k],
    param: (k) => ({ lr: '0.1', 'odd key': 'v' })[k],
    tag: (k) => ({ t: 'tag' })[k],
    attribute: (name) => ({ run_id: 'abc', run_name: 'r', status: 'FINISHED', user_id: 'u', artifact_uri: 'file:///a', start_time: 1, end_time: null })[name],
    datasets: (key) => (key === 'name' ? ['train'] : []),
  };
  for (let i = 0; i < 300; i++) {
    const words = Array.from({ length: 1 + f.int(9) }, () => f.pick(FILTER_TOKENS));
    let filter = words.join(f.pick([' ', ' ', '']));
    if (f.chance(0.2)) filter = f.mangle(filter, 2);
    await accepts(`filter case ${i} (seed ${SEED})`, filter, () => {
      const expr = parseFilter(filter);
      if (expr) matches(expr, run);
    });
  }
});

// ---- CSV files

function csvText(f: Fuzz): string {
  const columns = Array.from({ length: 1 + f.int(4) }, () => f.pick(['a', 'b', 'c', 'constructor', '__proto__', '', 'a', 'x y', '"q,uoted"', 'toString']));
  const cell = () =>
    f.pick(['1', '2.5', '-3', '1e16', '1e308', '9007199254740993', '1.7e18', 'NaN', 'Infinity', '', 'cat', 'dog', '"a,b"', '"multi\nline"', 'true', ' 4 ', '"unterminated']);
  const rows = Array.from({ length: f.int(12) }, () => Array.from({ length: f.chance(0.85) ? columns.length : f.int(6) }, cell).join(','));
  const text = `${[columns.join(','), ...rows].join(f.chance(0.9) ? '\n' : '\r\n')}${f.chance(0.5) ? '\n' : ''}`;
  return f.chance(0.15) ? f.mangle(text, 3) : text;
}

test('fuzzed CSV files through the drift and ML readers: a result or one located error, never a crash', async (t) => {
  const f = new Fuzz(seededRandom(SEED + 2));
  const dir = tempDir(t);
  const [ref, cur] = [join(dir, 'ref.csv'), join(dir, 'cur.csv')];
  for (let i = 0; i < 200; i++) {
    const texts = [csvText(f), csvText(f)];
    writeFileSync(ref, texts[0]!);
    writeFileSync(cur, texts[1]!);
    await accepts(`csv case ${i} (seed ${SEED})`, texts, async () => {
      readColumns(ref);
      const options = { test: f.pick(['auto', 'ks', 'chi2'] as const), alternative: f.pick(['two-sided', 'less', 'greater'] as const), threshold: 0.05, correction: f.pick(['none', 'bonferroni', 'fdr'] as const) };
      detectDrift(await readTable(ref), await readTable(cur), options);
    });
  }
});

// ---- end to end: the same kinds of input through the real CLI

test('fuzzed inputs through the real CLI: exit 0, 1 or 2 and never a stack trace', async (t) => {
  const f = new Fuzz(seededRandom(SEED + 3));
  const dir = tempDir(t);
  writeFiles(dir, { 'mlruns/0/meta.yaml': "artifact_location: x\nexperiment_id: '0'\nlifecycle_stage: active\nname: Default\ncreation_time: 1\nlast_update_time: 1\n" });
  const commands: string[][] = [];
  for (let i = 0; i < 2; i++) commands.push(['status']);
  for (let i = 0; i < 2; i++) commands.push(['runs', 'list', '--filter', Array.from({ length: 1 + f.int(6) }, () => f.pick(FILTER_TOKENS)).join(' ')]);
  for (let i = 0; i < 2; i++) commands.push(['drift', '--reference', 'ref.csv', '--current', 'cur.csv']);
  for (const [i, args] of commands.entries()) {
    writeFiles(dir, { 'pipeline.yaml': pipelineText(f), 'params.yaml': paramsText(f), 'ref.csv': csvText(f), 'cur.csv': csvText(f) });
    const r = await runMlops(args, { cwd: dir });
    const label = `CLI case ${i} (seed ${SEED}): mlops ${args.join(' ')}\n${r.stderr}`;
    assert.ok([0, 1, 2].includes(r.code), label);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, label);
  }
});
