import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateObesity } from '../src/ml/synthetic.js';
import { MLOPS_BIN, runMlops, tempDir, writeFiles, smallParams } from './helpers.js';
import { experimentRepo, expShow, processesUnder, queueStatus } from './queue-fixtures.js';
import { ownBroker, testBroker } from './redis.js';

// The BullMQ queue through the real CLI: workers are real `mlops queue worker` processes, killed with
// real signals; the broker is the machine's Redis under a key prefix of the test's own, or (to restart
// it) a redis-server of the test's own.

type After = { after(fn: () => void | Promise<void>): void };

const VISIBILITY_S = 2;

function brokerConfig(dir: string, url: string, prefix: string, extra = ''): void {
  writeFiles(dir, { '.mlops/config.local': `[queue]\n    url = ${url}\n    prefix = ${prefix}\n    visibility_timeout = ${VISIBILITY_S}\n${extra}` });
}

/** A clone of `origin` (another machine) configured for the broker, with `extra` config. */
function clone(t: After, origin: string, name: string, url: string, prefix: string, extra: string): string {
  const dir = join(tempDir(t), name);
  execFileSync('git', ['clone', '-q', origin, dir]);
  brokerConfig(dir, url, prefix, extra);
  return dir;
}

interface Worker {
  readonly child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

function startWorker(t: After, dir: string, args: string[] = []): Worker {
  const child = spawn(process.execPath, [MLOPS_BIN, 'queue', 'worker', ...args], { cwd: dir, env: { ...process.env, CI: 'true', MLOPS_ROOT: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return {
    child,
    output: () => output,
    exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (Date.now() > until) throw new Error(`worker never printed ${pattern}; it printed:\n${output}`);
        if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode} before ${pattern}:\n${output}`);
        await sleep(50);
      }
    },
  };
}

async function waitForLog(dir: string, ref: string, text: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await runMlops(['queue', 'logs', ref], { cwd: dir })).stdout.includes(text)) return;
    await sleep(100);
  }
  throw new Error(`job ${ref} never logged '${text}'`);
}

test('a worker killed with SIGKILL mid-experiment: the job is retried by another after the visibility timeout, recorded once; its orphan stage stops', async (t) => {
  const { url, prefix } = await testBroker(t);
  const dir = experimentRepo(t);
  brokerConfig(dir, url, prefix);
  assert.equal((await runMlops(['exp', 'run', '--queue', '-S', 'train.pause=3', '-n', 'survivor'], { cwd: dir })).code, 0);
  const first = startWorker(t, dir);
  await waitForLog(dir, 'survivor', '> sleep 3');
  first.child.kill('SIGKILL');
  await first.exited;
  const second = startWorker(t, dir);
  await second.waitFor(/experiment survivor \([0-9a-f]{8}\): done, recorded as run/, 90_000);
  const [job] = await queueStatus(dir);
  assert.equal(job!.state, 'done');
  assert.equal(job!.attempts, 2, 'the second attempt ran it');
  const rows = await expShow(dir);
  assert.deepEqual(rows.map((r) => [r.name, r.state, r.metrics.score]), [['survivor', 'Success', 4]], 'one record, not one per attempt');
  const logs = (await runMlops(['queue', 'logs', 'survivor'], { cwd: dir })).stdout;
  assert.match(logs, /attempt 1[\s\S]*attempt 2/);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 143);
  assert.deepEqual(processesUnder(dir), [], 'the first attempt\'s exp run ended with its worker');
});

test('Ctrl-C on a worker finishes its experiment and exits 130; SIGTERM returns it to the queue for another worker', async (t) => {
  const { url, prefix } = await testBroker(t);
  const dir = experimentRepo(t);
  brokerConfig(dir, url, prefix);
  assert.equal((await runMlops(['exp', 'run', '--queue', '-S', 'train.pause=2', '-n', 'finished'], { cwd: dir })).code, 0);
  const worker = startWorker(t, dir);
  await waitForLog(dir, 'finished', '> sleep 2');
  worker.child.kill('SIGINT');
  assert.equal(await worker.exited, 130);
  assert.match(worker.output(), /finishing the running jobs/);
  assert.equal((await queueStatus(dir))[0]!.state, 'done', 'the running experiment was finished, not dropped');

  assert.equal((await runMlops(['exp', 'run', '--queue', '-S', 'train.pause=60', '-n', 'returned'], { cwd: dir })).code, 0);
  const second = startWorker(t, dir);
  await waitForLog(dir, 'returned', '> sleep 60');
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 143);
  const job = (await queueStatus(dir)).find((j) => j.data.name === 'returned')!;
  assert.equal(job.state, 'queued', 'back in the queue');
  assert.deepEqual(processesUnder(dir), [], 'its stage was stopped');
  assert.deepEqual((await expShow(dir)).map((r) => [r.name, r.state]).sort(), [['finished', 'Success'], ['returned', 'Queued']]);
});

test('the queue survives a broker restart: queued experiments stay, a running worker reconnects and runs them', async (t) => {
  const broker = await ownBroker(t, { dir: tempDir(t) });
  const dir = experimentRepo(t);
  brokerConfig(dir, broker.url, 'restart');
  assert.equal((await runMlops(['exp', 'run', '--queue', '-S', 'train.lr=0.2', '-n', 'before'], { cwd: dir })).code, 0);
  await broker.stop();
  const down = await runMlops(['queue', 'status'], { cwd: dir });
  assert.equal(down.code, 2);
  assert.match(down.stderr, /no Redis answers there after 3 attempts/);
  await broker.start();
  assert.deepEqual((await queueStatus(dir)).map((j) => [j.data.name, j.state]), [['before', 'queued']]);

  const worker = startWorker(t, dir);
  await worker.waitFor(/experiment before \([0-9a-f]{8}\): done/, 90_000);
  await broker.stop();
  await sleep(500);
  await broker.start();
  assert.equal((await runMlops(['exp', 'run', '--queue', '-S', 'train.lr=0.4', '-n', 'after'], { cwd: dir })).code, 0);
  await worker.waitFor(/experiment after \([0-9a-f]{8}\): done/, 90_000);
  assert.deepEqual((await expShow(dir)).map((r) => [r.name, r.metrics.score]).sort(), [['after', 7], ['before', 5]]);
  worker.child.kill('SIGTERM');
  assert.equal(await worker.exited, 143);
});

test('two clones share the broker and the tracking store: queued in one, run by a worker in the other, shown and applied in both; a worker of another repository is refused', async (t) => {
  const { url, prefix } = await testBroker(t);
  const origin = experimentRepo(t);
  const shared = tempDir(t);
  // The tracking store and cache every machine reaches (a database and a remote, on a real team).
  const [laptop, server] = ['laptop', 'server'].map((name) => clone(t, origin, name, url, prefix, `[tracking]\n    uri = ${join(shared, 'mlruns')}\n[cache]\n    dir = ${join(shared, 'cache')}\n`));
  assert.equal((await runMlops(['exp', 'run', '--queue', '-S', 'train.depth=7', '-n', 'remote-run'], { cwd: laptop })).code, 0);

  const stranger = experimentRepo(t);
  brokerConfig(stranger, url, prefix);
  execFileSync('git', ['remote', 'add', 'origin', 'https://example.com/other.git'], { cwd: stranger });
  const refused = await runMlops(['queue', 'worker'], { cwd: stranger });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /holds experiments of .*laptop|holds experiments of .*\/tmp\/.*; this repository's origin is https:\/\/example\.com\/other\.git/);

  const worker = startWorker(t, server);
  await worker.waitFor(/experiment remote-run \([0-9a-f]{8}\): done/, 90_000);
  worker.child.kill('SIGTERM');
  await worker.exited;
  for (const dir of [laptop, server]) {
    assert.deepEqual((await expShow(dir)).map((r) => [r.name, r.state, r.metrics.score]), [['remote-run', 'Success', 8]]);
  }
  const apply = await runMlops(['exp', 'apply', 'remote-run'], { cwd: laptop });
  assert.equal(apply.code, 0, apply.stderr);
  assert.equal(readFileSync(join(laptop, 'model.txt'), 'utf8'), 'lr 0.1\n');
  assert.match(readFileSync(join(laptop, 'params.yaml'), 'utf8'), /depth: 7/);
});

const GRID_PARAMS = (executor: string) =>
  smallParams({ folds: 3, train: `  scoring: f1_macro\n  seed: 5\n  workers: 2\n  executor: ${executor}\n`, grid: { n_estimators: [10, 20], max_depth: [4, null] }, rest: '' });

test('train.executor: queue fans the grid out to two workers and gives the local cv_results.json and model bit for bit (fit times aside); a job failing for good fails train with one line', async (t) => {
  const { url, prefix } = await testBroker(t);
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': GRID_PARAMS('local'), 'data/raw/obesity.csv': generateObesity(240, 4), '.mlops/config': '' });
  assert.equal((await runMlops(['prepare'], { cwd: dir })).code, 0);
  assert.equal((await runMlops(['train'], { cwd: dir })).code, 0);
  const read = (path: string) => readFileSync(join(dir, path), 'utf8');
  const local = { cv: read('reports/cv_results.json'), model: read('models/model.json') };

  writeFiles(dir, { 'params.yaml': GRID_PARAMS('queue') });
  const noBroker = await runMlops(['train'], { cwd: dir });
  assert.equal(noBroker.code, 2);
  assert.match(noBroker.stderr, /params\.yaml:\d+.*train\.executor.*queue needs a broker/);

  brokerConfig(dir, url, prefix);
  const workers = [startWorker(t, dir), startWorker(t, dir)];
  const train = await runMlops(['train'], { cwd: dir });
  assert.equal(train.code, 0, train.stderr);
  assert.match(train.stderr, /train: 12 fold jobs queued on redis:/);
  assert.match(train.stdout, /\(4\/4 done\)/);
  const withoutTimes = (text: string) => JSON.stringify(JSON.parse(text), (k, v: unknown) => (k === 'fit_times' || k === 'mean_fit_time' ? undefined : v));
  assert.equal(withoutTimes(read('reports/cv_results.json')), withoutTimes(local.cv));
  assert.equal(read('models/model.json'), local.model, 'the refit best model, byte for byte');
  for (const w of workers) {
    w.child.kill('SIGTERM');
    assert.equal(await w.exited, 143);
  }
  assert.deepEqual((await queueStatus(dir)), [], 'no experiment jobs; the grid\'s jobs were removed after');

  // A worker whose cache lacks the training data (another machine without the remote): every attempt fails.
  const elsewhere = tempDir(t);
  writeFiles(elsewhere, { '.mlops/config': '' });
  brokerConfig(elsewhere, url, prefix);
  const stranded = startWorker(t, elsewhere);
  const failed = await runMlops(['train'], { cwd: dir });
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /train: grid job g[0-9a-f]{10}\.\d+ \(candidate \d, fold \d\) failed after 3 attempt\(s\): grid job .* the training data \(md5 [0-9a-f]{32}\) is not in this machine's cache .*, and no default remote has it/);
  stranded.child.kill('SIGTERM');
  await stranded.exited;

  // With a remote both reach, train puts the training file there and the other machine's worker fetches it.
  const folder = join(tempDir(t), 'remote');
  mkdirSync(folder);
  const remote = `['remote "storage"']\n    url = ${folder}\n[core]\n    remote = storage\n`;
  brokerConfig(dir, url, prefix, remote);
  brokerConfig(elsewhere, url, prefix, remote);
  const fetching = startWorker(t, elsewhere);
  const remoteTrain = await runMlops(['train'], { cwd: dir });
  assert.equal(remoteTrain.code, 0, remoteTrain.stderr);
  assert.equal(withoutTimes(read('reports/cv_results.json')), withoutTimes(local.cv));
  fetching.child.kill('SIGTERM');
  await fetching.exited;
});

test('with a remote, a worker on another machine (its own cache) pulls the inputs and pushes the outputs and run-cache; the queueing clone pulls the result', async (t) => {
  const { url, prefix } = await testBroker(t);
  const origin = experimentRepo(t);
  const shared = tempDir(t);
  const remote = join(shared, 'remote');
  mkdirSync(remote); // as `mlops remote add` leaves it for a folder
  // Each machine its own cache; the tracking store shared (a database on a real team), the remote a folder.
  const config = `[tracking]\n    uri = ${join(shared, 'mlruns')}\n['remote "storage"']\n    url = ${remote}\n[core]\n    remote = storage\n`;
  const [laptop, server] = ['laptop', 'server'].map((name) => clone(t, origin, name, url, prefix, config));
  assert.equal((await runMlops(['exp', 'run', '--queue', '-S', 'train.lr=0.6', '-n', 'pushed'], { cwd: laptop })).code, 0);
  const worker = startWorker(t, server);
  await worker.waitFor(/experiment pushed \([0-9a-f]{8}\): done/, 90_000);
  worker.child.kill('SIGTERM');
  await worker.exited;
  const logs = (await runMlops(['queue', 'logs', 'pushed'], { cwd: laptop })).stdout;
  assert.match(logs, /pull: the inputs and the run-cache from the remote[\s\S]*push: the outputs and the run-cache to the remote/);
  assert.deepEqual((await expShow(laptop)).map((r) => [r.name, r.state, r.metrics.score]), [['pushed', 'Success', 9]]);
  await runMlops(['exp', 'apply', 'pushed'], { cwd: laptop }); // params and lock file; the model is not in this cache yet
  const pull = await runMlops(['pull'], { cwd: laptop });
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal(readFileSync(join(laptop, 'model.txt'), 'utf8'), 'lr 0.6\n', 'the model the server made, through the remote');
});

test('exp pull on another clone: a database store keeps artifacts on the machine that ran the experiment, so its record comes through the remote with its outputs; -f over a modified output', async (t) => {
  const { url, prefix } = await testBroker(t);
  const origin = experimentRepo(t);
  const shared = tempDir(t);
  const remote = join(shared, 'remote');
  mkdirSync(remote);
  // One SQLite database every clone reaches (PostgreSQL on a real team); artifacts under each clone's
  // own mlartifacts/ (the default), each its own cache, one folder remote.
  const config = `[tracking]\n    uri = sqlite:///${join(shared, 'runs.db')}\n['remote "storage"']\n    url = ${remote}\n[core]\n    remote = storage\n`;
  const [laptop, server] = ['laptop', 'server'].map((name) => clone(t, origin, name, url, prefix, config));
  assert.equal((await runMlops(['exp', 'run', '--queue', '-S', 'train.lr=0.7', '-n', 'far'], { cwd: laptop })).code, 0);
  const worker = startWorker(t, server);
  await worker.waitFor(/experiment far \([0-9a-f]{8}\): done/, 90_000);
  worker.child.kill('SIGTERM');
  await worker.exited;
  assert.match((await runMlops(['queue', 'logs', 'far'], { cwd: laptop })).stdout, /share: the record's files to the remote \([0-9a-f]{32}\.dir\)/);
  assert.deepEqual((await expShow(laptop)).map((r) => [r.name, r.state, r.metrics.score]), [['far', 'Success', 10]]);

  // The record stayed on the server (not in the worktree the worker removed): apply works there.
  assert.equal((await runMlops(['exp', 'apply', 'far'], { cwd: server })).code, 0);
  assert.match(readFileSync(join(server, 'params.yaml'), 'utf8'), /lr: 0\.7/);
  // The laptop reaches neither the server's artifacts nor its cache (here both are on one disk: the
  // server's artifacts are moved out of reach).
  renameSync(join(server, 'mlartifacts'), join(shared, 'away'));
  const apply = await runMlops(['exp', 'apply', 'far'], { cwd: laptop });
  assert.equal(apply.code, 2, apply.stderr);
  assert.match(apply.stderr, /^error: experiment 'far' \([0-9a-f]{32}\): its record's files \(.*server\/mlartifacts\/.*\) are not on this machine; mlops exp pull far brings them from the remote\n$/);
  const pull = await runMlops(['exp', 'pull', 'far'], { cwd: laptop });
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, /^pulled far \([0-9a-f]{32}\): 3 file\(s\) from the record \(remote 'storage'\), 1 object\(s\) fetched, 1 output\(s\) restored$/m);
  assert.match(readFileSync(join(laptop, 'params.yaml'), 'utf8'), /lr: 0\.7 {4}# step size/);
  assert.equal(readFileSync(join(laptop, 'metrics.json'), 'utf8'), '{"score": 10}');
  assert.equal(readFileSync(join(laptop, 'model.txt'), 'utf8'), 'lr 0.7\n', 'the model the server made, through the remote');
  assert.equal((await runMlops(['status', '-q'], { cwd: laptop })).code, 0, 'the workspace is the experiment: nothing to reproduce');

  writeFiles(laptop, { 'model.txt': 'edited by hand\n' });
  const refused = await runMlops(['exp', 'pull', 'far'], { cwd: laptop });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /modified outputs would be overwritten .*model\.txt.*--force/);
  assert.equal(readFileSync(join(laptop, 'model.txt'), 'utf8'), 'edited by hand\n');
  const forced = await runMlops(['exp', 'pull', '-f', '-r', 'storage', 'far'], { cwd: laptop });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(readFileSync(join(laptop, 'model.txt'), 'utf8'), 'lr 0.7\n');

  const unknown = await runMlops(['exp', 'pull', 'nope'], { cwd: laptop });
  assert.deepEqual([unknown.code, unknown.stderr.trim()], [2, "error: no experiment 'nope' (see mlops exp show)"]);
});
