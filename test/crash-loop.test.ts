// Issue 9: `repro` killed at random moments (SIGKILL, SIGTERM, SIGINT to its process group, as a
// container stop, an OOM kill or Ctrl-C would) on a small pipeline with a folder output, a file output
// and a stage that records a tracked run. After every kill the lock parses, every cache object matches
// its name, mlruns/ is valid and readable; halfway and at the end an uninterrupted repro
// succeeds and leaves outputs that agree with the inputs, and status is then up to date.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { MLOPS_BIN, PROJECT_ROOT, runMlops, seededRandom, tempDir, writeFiles } from './helpers.js';
import { INCOMPLETE_RUN, validateMlruns } from './tracking-validator.js';

const ITERATIONS = 20;
const SEED = 9;

const storeUrl = new URL('dist/src/tracking/file-store.js', `file://${PROJECT_ROOT}/`).href;
const PROJECT = {
  'gen.mjs': [
    "import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';",
    "const v = readFileSync('in.txt', 'utf8').trim();",
    "mkdirSync('data', { recursive: true });",
    'for (let i = 0; i < 40; i++) writeFileSync(`data/part-${i}.txt`, `${v}:${i}\\n`.repeat(200));',
    '',
  ].join('\n'),
  'track.mjs': [
    `import { FileStore } from ${JSON.stringify(storeUrl)};`,
    "import { readdirSync, readFileSync, writeFileSync } from 'node:fs';",
    "const parts = readdirSync('data').sort().map((f) => readFileSync(`data/${f}`, 'utf8'));",
    "const v = parts[0].split(':')[0];",
    "const store = new FileStore('mlruns');",
    "const exp = await store.getOrCreateExperiment('crash');",
    "const run = await store.createRun({ experimentId: exp, runName: `v${v}`, userId: 'test' });",
    "await store.logParams(run.run_id, { v });",
    "await store.logMetrics(run.run_id, [{ key: 'parts', value: parts.length, step: 0, timestamp: Date.now() }]);",
    "writeFileSync('summary.txt', `${v} ${parts.length}\\n`);",
    "await store.setStatus(run.run_id, 'FINISHED', Date.now());",
    '',
  ].join('\n'),
  'pipeline.yaml': [
    'stages:',
    '  make:',
    '    cmd: node gen.mjs',
    '    deps: [in.txt, gen.mjs]',
    '    outs: [data]',
    '  track:',
    '    cmd: node track.mjs',
    '    deps: [data, track.mjs]',
    '    outs: [summary.txt]',
    '',
  ].join('\n'),
};

/** Starts repro in its own process group and signals the whole group after `delay` ms. */
function killedRepro(dir: string, delay: number, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MLOPS_BIN, 'repro'], { cwd: dir, detached: true, stdio: 'ignore', env: { ...process.env, CI: 'true' } });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already finished
      }
    }, delay);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Whatever the stage started must be gone before the next repro, as after a container stop.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is empty
      }
      resolve(code);
    });
  });
}

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

function checkStore(dir: string, label: string): void {
  const lockPath = join(dir, 'pipeline.lock');
  if (existsSync(lockPath)) {
    const lock = parse(readFileSync(lockPath, 'utf8')) as { schema: string; stages: Record<string, unknown> };
    assert.equal(lock.schema, '2.0', label);
  }
  const objects = join(dir, '.mlops/cache/files/md5');
  if (existsSync(objects)) {
    for (const prefix of readdirSync(objects)) {
      for (const rest of readdirSync(join(objects, prefix))) {
        if (rest.includes('.tmp-')) continue; // a killed copy's temp file: never read under an object name
        const name = prefix + rest;
        const content = readFileSync(join(objects, prefix, rest));
        assert.equal(name.endsWith('.dir') ? `${md5(content)}.dir` : md5(content), name, `${label}: object ${name}`);
      }
    }
  }
  if (existsSync(join(dir, 'mlruns'))) {
    // A writer killed mid-update leaves its temp files and its meta.yaml lock (taken over as stale by
    // the run's next update, e.g. `runs close --stale`); anything else is damage.
    const problems = validateMlruns(join(dir, 'mlruns')).filter((p) => !p.includes('.tmp-') && !p.endsWith(INCOMPLETE_RUN) && !/'meta\.yaml\.lock(\.new-[^']*)?'$/.test(p));
    assert.deepEqual(problems, [], label);
  }
}

async function checkComplete(dir: string, value: number, label: string): Promise<void> {
  const r = await runMlops(['repro'], { cwd: dir });
  assert.equal(r.code, 0, `${label}: ${r.stdout}${r.stderr}`);
  for (let i = 0; i < 40; i++) assert.equal(readFileSync(join(dir, `data/part-${i}.txt`), 'utf8'), `${value}:${i}\n`.repeat(200), label);
  assert.equal(readdirSync(join(dir, 'data')).length, 40, label);
  assert.equal(readFileSync(join(dir, 'summary.txt'), 'utf8'), `${value} 40\n`, label);
  assert.match((await runMlops(['status'], { cwd: dir })).stdout, /up to date/, label);
  const runs = await runMlops(['runs', 'list', '--json'], { cwd: dir });
  assert.equal(runs.code, 0, `${label}: ${runs.stderr}`);
  checkStore(dir, label);
}

test(`repro killed ${ITERATIONS} times at random moments never damages the lock, the cache, the runs or the outputs`, async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { ...PROJECT, 'in.txt': '0\n' });
  const next = seededRandom(SEED);
  const signals: NodeJS.Signals[] = ['SIGKILL', 'SIGTERM', 'SIGINT'];
  let value = 0;
  for (let i = 1; i <= ITERATIONS; i++) {
    if (next() < 0.7) writeFileSync(join(dir, 'in.txt'), `${(value = i)}\n`);
    const signal = signals[Math.floor(next() * signals.length)]!;
    const delay = Math.floor(next() * 1500);
    const label = `seed ${SEED}, kill ${i} (${signal} after ${delay} ms)`;
    await killedRepro(dir, delay, signal);
    checkStore(dir, label);
    if (i === ITERATIONS / 2) await checkComplete(dir, value, label);
  }
  await checkComplete(dir, value, 'final');
});
