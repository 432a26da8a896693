import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabelledMatrix } from '../src/ml/matrix.js';
import { readRawCsv } from '../src/ml/raw.js';
import { fitTransform, inferKinds, transformMatrix } from '../src/ml/transform.js';

/** The project checkout (tests run from dist/test/). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MLOPS_BIN = join(PROJECT_ROOT, 'bin', 'mlops');
/**
 * The real UCI obesity data the team shares beside the project; read it in place, never copy it in.
 * OBESITY_CSV_PATH overrides the place (a worktree elsewhere does not sit beside it), as in the benches.
 */
export const OBESITY_CSV = process.env.OBESITY_CSV_PATH || resolve(PROJECT_ROOT, '..', 'shared', 'data', 'obesity.csv');

/** The raw obesity rows one-hot encoded without `target` (kept as class labels, or as values for regression). */
export function obesityMatrix(target: string, regression: boolean): LabelledMatrix {
  const table = readRawCsv(OBESITY_CSV);
  const options = { target, missing: 'median', encoding: 'onehot', scaling: 'none', categorical: [] } as const;
  const transform = fitTransform(table, Array.from({ length: table.nRows }, (_, i) => i), inferKinds(table, options), options);
  const m = transformMatrix(transform, table);
  const column = table.values[table.columns.indexOf(target)]!;
  if (regression) return { ...m, y: new Int32Array(m.nRows), nClasses: 1, values: Float64Array.from(column, Number) };
  const classes = [...new Set(column.map(String))].sort();
  return { ...m, y: Int32Array.from(column, (v) => classes.indexOf(String(v))), nClasses: classes.length };
}

/** A fresh temp folder, removed when the test ends. */
export function tempDir(t: { after(fn: () => void): void }, prefix = 'mlops-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes files given as `{relativePath: content}` under `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process, as a user or CI job would (CI set, so output is plain). */
export function runMlops(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [MLOPS_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, CI: 'true', MLOPS_ROOT: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/** A real git repository with one commit of whatever is in `dir`. */
export function gitInit(dir: string): void {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'test@example.com');
  git('config', 'user.name', 'Test');
  git('add', '-A');
  git('commit', '-q', '--allow-empty', '-m', 'initial');
}

/** A small deterministic generator (mulberry32) in [0, 1): a failing fuzz or crash sequence can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A running S3 server (s3rver) on 127.0.0.1, with its data in a temp folder; stopped when the test ends. */
export interface S3Server {
  readonly endpoint: string;
  /** Where s3rver keeps the buckets (`<dir>/<bucket>/<key>._S3rver_object`). */
  readonly directory: string;
  stop(): Promise<void>;
}

/** Starts s3rver (credentials S3RVER/S3RVER, which it checks) with the given buckets. */
export async function startS3Server(t: { after(fn: () => Promise<void> | void): void }, buckets: string[]): Promise<S3Server> {
  const dir = tempDir(t, 'mlops-s3-');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', join(PROJECT_ROOT, 'dist', 'test', 's3-server.js'), dir, ...buckets], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolvePort(Number(out.trim()));
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited (${code})`)));
  });
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null) return done();
      child.on('exit', () => done());
      child.stdin.end();
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  t.after(stop);
  return { endpoint: `http://127.0.0.1:${port}`, directory: dir, stop };
}

export interface SmallParams {
  readonly folds?: number;
  /** train's lines between cv_folds and the grid. */
  readonly train?: string;
  readonly grid?: Readonly<Record<string, readonly (number | string | null)[]>>;
  /** What follows the train section. */
  readonly rest?: string;
}

/**
 * params.yaml of the small example the stage, serve and monitor tests train on (generated data, a
 * tiny grid, so a run takes seconds); line numbers of the text are asserted by some tests.
 */
export function smallParams(o: SmallParams = {}): string {
  const { folds = 2, train = '  seed: 5\n', grid = { n_estimators: [20], max_depth: [6] }, rest = 'evaluate:\n  permutation_repeats: 1\n' } = o;
  return `prepare:\n  input: data/raw/obesity.csv\n  target: NObeyesdad\n  test_size: 0.25\n  seed: 3\ntrain:\n  cv_folds: ${folds}\n${train}  grid:\n${gridYaml(grid)}${rest}`;
}

/** A grid's lines under `train.grid:` (flow lists, one key a line). */
export function gridYaml(grid: NonNullable<SmallParams['grid']>): string {
  return Object.entries(grid).map(([key, values]) => `    ${key}: [${values.map((v) => String(v)).join(', ')}]\n`).join('');
}

/** `mlops` run in the project `dir()` names (MLOPS_ROOT set, so no stray .mlops/ above a temp folder captures it); `ok` asserts exit 0. */
export function projectCli(dir: () => string): { mlops(...args: string[]): Promise<RunResult>; ok(...args: string[]): Promise<RunResult> } {
  const mlops = (...args: string[]) => runMlops(args, { cwd: dir(), env: { MLOPS_ROOT: dir() } });
  const ok = async (...args: string[]) => {
    const r = await mlops(...args);
    assert.equal(r.code, 0, `mlops ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  return { mlops, ok };
}
