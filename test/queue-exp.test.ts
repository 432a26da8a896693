import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MLOPS_BIN, runMlops, tempDir, writeFiles } from './helpers.js';
import { experimentRepo, expShow, PARAMS, PIPELINE, processesUnder, queueStatus } from './queue-fixtures.js';

// The embedded queue end to end, through the real CLI in real git repositories: experiments queued
// with exp run --queue, run by queue start in worktrees, listed by exp show, brought back by exp apply;
// and what is refused when queued.

const gitStatus = (dir: string) => execFileSync('git', ['status', '--porcelain'], { cwd: dir, encoding: 'utf8' });

test('queued experiments run in worktrees with queue start -j 2; exp show lists them queued, then with their metrics; the workspace is never written', async (t) => {
  const dir = experimentRepo(t);
  const a = await runMlops(['exp', 'run', '--queue', '-S', 'train.lr=0.5', '-n', 'fast'], { cwd: dir });
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^queued experiment fast as job [0-9a-f]{8} \(commit [0-9a-f]{7}\)/);
  assert.equal((await runMlops(['exp', 'run', '--queue', '-S', 'train.lr=0.3', '-S', 'train.depth=5'], { cwd: dir })).code, 0);
  const queued = await expShow(dir);
  assert.deepEqual(queued.map((r) => [r.state, r.params['train.lr']]).sort(), [['Queued', '0.3'], ['Queued', '0.5']]);
  assert.equal(readFileSync(join(dir, 'params.yaml'), 'utf8'), PARAMS, 'queueing writes nothing into the workspace');

  const start = await runMlops(['queue', 'start', '-j', '2'], { cwd: dir });
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stderr, /experiment fast \([0-9a-f]{8}\): done, recorded as run [0-9a-f]{32}/);
  const rows = await expShow(dir);
  assert.deepEqual(rows.map((r) => [r.state, r.params['train.lr'], r.metrics.score]).sort(), [['Success', '0.3', 8], ['Success', '0.5', 8]]);
  assert.equal(rows.length, 2, 'one record per job, the queued rows gone');
  const jobs = await queueStatus(dir);
  assert.ok(jobs.every((j) => j.state === 'done' && j.attempts === 1));
  assert.deepEqual(new Set(jobs.map((j) => j.result!.run_id)), new Set(rows.map((r) => r.run_id)));

  // The workspace: untouched params, no outputs, clean git status, no worktree left behind.
  assert.equal(readFileSync(join(dir, 'params.yaml'), 'utf8'), PARAMS);
  assert.ok(!existsSync(join(dir, 'model.txt')) && !existsSync(join(dir, 'metrics.json')));
  assert.equal(gitStatus(dir), '');
  assert.deepEqual(readdirSync(join(dir, '.mlops', 'tmp', 'queue')), []);
  assert.equal(execFileSync('git', ['worktree', 'list'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').length, 1);

  const logs = await runMlops(['queue', 'logs', 'fast'], { cwd: dir });
  assert.match(logs.stdout, /> sleep 0 && test 0 = 0 && echo "lr 0.5"/);
  assert.match(logs.stdout, /experiment recorded as run/);

  const apply = await runMlops(['exp', 'apply', 'fast'], { cwd: dir });
  assert.equal(apply.code, 0, apply.stderr);
  assert.match(readFileSync(join(dir, 'params.yaml'), 'utf8'), /lr: 0\.5 {4}# step size/);
  assert.equal(readFileSync(join(dir, 'model.txt'), 'utf8'), 'lr 0.5\n', 'the cached output comes back from the shared cache');
});

test('bad input is refused when queued, with one line and exit 2, and nothing is queued', async (t) => {
  const dir = experimentRepo(t);
  const cases: [string[], RegExp][] = [
    [['-S', 'train.lrr=0.5'], /-S train\.lrr=0\.5: no key 'train\.lrr' in params\.yaml \(did you mean 'train\.lr'\?\)/],
    [['-S', 'other.yaml:x=1'], /-S other\.yaml:x=1: other\.yaml not found/],
    [['-S', 'train.lr'], /-S expects \[file:\]key=value/],
    [['--file', 'nope.yaml'], /--file nope\.yaml: not in commit [0-9a-f]{7}/],
    [['--temp'], /error: option '--queue' cannot be used with option '--temp'/],
  ];
  for (const [args, message] of cases) {
    const r = await runMlops(['exp', 'run', '--queue', ...args], { cwd: dir });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  // A key that exists only in the workspace's uncommitted params is refused too: the commit is what runs.
  writeFiles(dir, { 'params.yaml': `${PARAMS}  extra: 1\n` });
  const dirty = await runMlops(['exp', 'run', '--queue', '-S', 'train.extra=2'], { cwd: dir });
  assert.equal(dirty.code, 2);
  assert.match(dirty.stderr, /no key 'train\.extra'/);
  const noted = await runMlops(['exp', 'run', '--queue', '-S', 'train.lr=0.2'], { cwd: dir });
  assert.equal(noted.code, 0);
  assert.match(noted.stderr, /note: uncommitted changes are not queued: the experiment runs at commit [0-9a-f]{7}/);
  assert.equal((await queueStatus(dir)).length, 1, 'only the valid experiment was queued');

  const plain = tempDir(t);
  writeFiles(plain, { 'params.yaml': PARAMS, 'pipeline.yaml': PIPELINE, '.mlops/config': '' });
  const outside = await runMlops(['exp', 'run', '--queue'], { cwd: plain });
  assert.equal(outside.code, 2);
  assert.match(outside.stderr, /exp run --queue needs a git repository/);

  const worker = await runMlops(['queue', 'worker'], { cwd: dir });
  assert.equal(worker.code, 2);
  assert.match(worker.stderr, /queue worker needs a broker: set queue\.url/);
  writeFiles(dir, { '.mlops/config.local': '[queue]\n    url = http://127.0.0.1:1/0\n' });
  const badUrl = await runMlops(['queue', 'status'], { cwd: dir });
  assert.equal(badUrl.code, 2);
  assert.match(badUrl.stderr, /config\.local.*queue\.url.*expected redis:\/\/host:port\/db/);
  writeFiles(dir, { '.mlops/config.local': '[queue]\n    url = redis://127.0.0.1:1/0\n' });
  const unreachable = await runMlops(['exp', 'run', '--queue', '-S', 'train.lr=0.2'], { cwd: dir });
  assert.equal(unreachable.code, 2);
  assert.match(unreachable.stderr, /queue\.url redis:\/\/127\.0\.0\.1:1\/0: no Redis answers there after 3 attempts/);
  assert.equal(unreachable.stderr.trim().split('\n').length, 1, unreachable.stderr);
});

test('a failing stage ends its job FAILED at once with its log; a commit gone from the repository fails with one line; both show in exp show', async (t) => {
  const dir = experimentRepo(t);
  assert.equal((await runMlops(['exp', 'run', '--queue', '-S', 'train.fail=1', '-n', 'broken'], { cwd: dir })).code, 0);
  // Queued at a commit that is then rewritten away and collected.
  writeFiles(dir, { 'notes.txt': 'x' });
  execFileSync('git', ['add', '-A'], { cwd: dir });
  execFileSync('git', ['commit', '-qm', 'second'], { cwd: dir });
  assert.equal((await runMlops(['exp', 'run', '--queue', '-n', 'orphan'], { cwd: dir })).code, 0);
  execFileSync('git', ['reset', '-q', '--hard', 'HEAD~1'], { cwd: dir });
  execFileSync('git', ['reflog', 'expire', '--expire=now', '--all'], { cwd: dir });
  execFileSync('git', ['gc', '-q', '--prune=now'], { cwd: dir });

  const start = await runMlops(['queue', 'start'], { cwd: dir });
  assert.equal(start.code, 0, start.stderr);
  const jobs = await queueStatus(dir);
  const broken = jobs.find((j) => j.data.name === 'broken')!;
  assert.equal(broken.state, 'failed');
  assert.equal(broken.attempts, 1, 'a stage failure is the experiment\'s own: not retried');
  assert.match(broken.error!, /a stage failed: recorded as run [0-9a-f]{32} \(FAILED\)/);
  const orphan = jobs.find((j) => j.data.name === 'orphan')!;
  assert.equal(orphan.state, 'failed');
  assert.equal(orphan.attempts, 1);
  assert.match(orphan.error!, /commit [0-9a-f]{7} is not in this repository .*not even after git fetch/);
  const logs = await runMlops(['queue', 'logs', broken.id], { cwd: dir });
  assert.match(logs.stdout, /failed with exit code 1|exit code 1|failed/);
  assert.deepEqual((await expShow(dir)).map((r) => [r.name, r.state]), [['broken', 'Failed']]);
  const all = await expShow(dir, ['--all-commits']);
  assert.deepEqual(all.map((r) => [r.name, r.state]).sort(), [['broken', 'Failed'], ['orphan', 'Failed']], 'the orphan is listed with its (gone) commit');
});

test('queue kill stops a running experiment (its stage too) and fails the job without retry; remove and clear take the queued ones', async (t) => {
  const dir = experimentRepo(t);
  assert.equal((await runMlops(['exp', 'run', '--queue', '-S', 'train.pause=60', '-n', 'slow'], { cwd: dir })).code, 0);
  assert.equal((await runMlops(['exp', 'run', '--queue', '-n', 'second'], { cwd: dir })).code, 0);
  assert.equal((await runMlops(['exp', 'run', '--queue', '-n', 'third'], { cwd: dir })).code, 0);
  const removed = await runMlops(['queue', 'remove', 'second'], { cwd: dir });
  assert.match(removed.stdout, /^removed second \([0-9a-f]{8}\)/);
  const worker = spawn(process.execPath, [MLOPS_BIN, 'queue', 'start'], { cwd: dir, env: { ...process.env, CI: 'true', MLOPS_ROOT: '' }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));
  t.after(() => void worker.kill('SIGKILL'));
  for (let i = 0; i < 200 && !(await runMlops(['queue', 'logs', 'slow'], { cwd: dir })).stdout.includes('> sleep 60'); i++) await sleep(100);
  const running = await runMlops(['queue', 'remove', 'slow'], { cwd: dir });
  assert.equal(running.code, 2);
  assert.match(running.stderr, /is running: use mlops queue kill/);
  const killed = await runMlops(['queue', 'kill', 'slow'], { cwd: dir });
  assert.match(killed.stdout, /^killing slow/);
  for (let i = 0; i < 300 && (await queueStatus(dir)).find((j) => j.data.name === 'slow')?.state !== 'failed'; i++) await sleep(100);
  const slow = (await queueStatus(dir)).find((j) => j.data.name === 'slow')!;
  assert.equal(slow.state, 'failed');
  assert.equal(slow.error, 'killed by mlops queue kill');
  assert.equal(slow.attempts, 1);
  assert.equal(await exited, 0, 'queue start goes on with the next experiment and ends when the queue is empty');
  assert.deepEqual(processesUnder(dir), [], 'the killed stage is gone too');
  const left = await queueStatus(dir);
  assert.deepEqual(left.map((j) => [j.data.name, j.state]).sort(), [['slow', 'failed'], ['third', 'done']]);
  const clear = await runMlops(['queue', 'clear'], { cwd: dir });
  assert.match(clear.stdout, /2 experiment\(s\) removed/);
  assert.deepEqual(await queueStatus(dir), []);
});
