import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { processAlive } from '../src/core/process.js';
import { generateObesity } from '../src/ml/synthetic.js';
import { MLOPS_BIN, runMlops, tempDir, writeFiles } from './helpers.js';

// Ctrl-C as a person gives it: the byte ^C typed into a real pseudo-terminal (util-linux `script`), which
// the terminal turns into SIGINT only if the program has not put it in raw mode.

/** The CLI on a real pseudo-terminal of 100 columns, not in CI; resolves with the exit code. */
function onTerminal(args: string[], cwd: string): { child: ChildProcess; output: () => string; exit: Promise<number | null>; sawText(text: string): Promise<void> } {
  const command = `stty cols 100 rows 30; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(MLOPS_BIN)} ${args.join(' ')}`;
  const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm', MLOPS_ROOT: '' };
  delete env.CI;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  const onData = (d: Buffer) => {
    output += d.toString();
    for (const w of waiters.filter((w) => output.includes(w.text))) w.resolve();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exit,
    sawText: (text) => new Promise<void>((resolve) => (output.includes(text) ? resolve() : waiters.push({ text, resolve }))),
  };
}

function runsOf(dir: string) {
  const runsDir = join(dir, 'mlruns/0');
  const read = (id: string, path: string) => (existsSync(join(runsDir, id, path)) ? readFileSync(join(runsDir, id, path), 'utf8') : undefined);
  return readdirSync(runsDir)
    .filter((id) => existsSync(join(runsDir, id, 'meta.yaml')))
    .map((id) => ({ id, stage: read(id, 'tags/mlops.stage'), parent: read(id, 'tags/mlflow.parentRunId'), status: read(id, 'meta.yaml')!.match(/^status: (\d)$/m)![1] }));
}

test('Ctrl-C typed at a terminal stops a train grid search under its spinner: run FAILED, exit 130', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'data/raw/obesity.csv': generateObesity(210, 4),
    'params.yaml': 'prepare:\n  input: data/raw/obesity.csv\n  target: NObeyesdad\ntrain:\n  cv_folds: 3\n  workers: 1\n  grid:\n    n_estimators: [300]\n    max_depth: [3, 4, 5, 6, 7, 8, 9, null]\n    min_samples_leaf: [1, 2, 3, 4, 5]\n',
  });
  assert.equal((await runMlops(['prepare'], { cwd: dir })).code, 0);
  const term = onTerminal(['train'], dir);
  await Promise.race([term.sawText('candidates, ETA'), term.exit]);
  term.child.stdin!.write('\x03');
  assert.equal(await term.exit, 130, term.output());
  assert.ok(!existsSync(join(dir, 'models/model.json')), 'no model written');
  const train = runsOf(dir).filter((r) => r.stage === 'train' && r.parent === undefined);
  assert.deepEqual(train.map((r) => r.status), ['4'], 'the train run ended FAILED');
  assert.ok(runsOf(dir).every((r) => r.status !== '1'), 'no run left RUNNING');
});

test('Ctrl-C typed at a terminal during repro stops the stage (its whole process group): stage run FAILED, exit 130', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': 'stages:\n  slow:\n    cmd: sleep 60 & echo $! > child.pid; echo up-$((6*7)); wait\n    outs: [never.txt]\n',
  });
  const term = onTerminal(['repro'], dir);
  await Promise.race([term.sawText('up-42'), term.exit]); // the command's output, not its echoed text
  term.child.stdin!.write('\x03');
  assert.equal(await term.exit, 130, term.output());
  const sleeper = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
  assert.ok(!processAlive({ pid: sleeper }), "the stage's background child is gone too");
  assert.deepEqual(runsOf(dir).map((r) => [r.stage, r.status]), [['slow', '4']]);
  assert.ok(!existsSync(join(dir, '.mlops/repro.lock')), 'the repo lock is released');
});

test('SIGTERM to repro ends the stage and records its run KILLED; exit 143', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  slow:\n    cmd: echo up-$((6*7)); sleep 60\n' });
  const child = spawn(process.execPath, [MLOPS_BIN, 'repro'], { cwd: dir, env: { ...process.env, CI: 'true', MLOPS_ROOT: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('up-42') && resolve()));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 143);
  assert.deepEqual(runsOf(dir).map((r) => [r.stage, r.status]), [['slow', '5']]);
});
