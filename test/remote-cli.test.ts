import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateObesity } from '../src/ml/synthetic.js';
import { gitInit, MLOPS_BIN, runMlops, startS3Server, tempDir, writeFiles, type RunResult, smallParams } from './helpers.js';

// push, pull, fetch and status -c through the real CLI, between real git clones, against a shared
// folder and a real S3 server (s3rver on 127.0.0.1) in the layout DVC 3 reads.

type Ctx = Parameters<typeof startS3Server>[0];

async function ok(dir: string, ...args: string[]): Promise<RunResult> {
  const r = await runMlops(args, { cwd: dir });
  assert.equal(r.code, 0, `mlops ${args.join(' ')}: ${r.stderr}`);
  return r;
}

const PIPELINE = `stages:
  make:
    cmd: mkdir -p out && for i in 1 2 3 4 5; do echo "\${n} $i" > out/f$i.txt; done && echo "\${n}" > model.txt && echo ran >> ../ran.log
    deps: [params.yaml]
    params: [n]
    outs: [out, model.txt]
`;

/** A git project whose stage made a directory and a file; its .gitignore keeps the outputs out of git. */
async function project(t: Ctx): Promise<string> {
  const base = tempDir(t);
  const dir = join(base, 'a');
  writeFiles(dir, { 'pipeline.yaml': PIPELINE, 'params.yaml': 'n: 1\n', '.mlops/.gitignore': '/*\n!/.gitignore\n!/config\n' });
  gitInit(dir);
  await ok(dir, 'repro');
  return dir;
}

/** A second machine: a git clone of `dir` (config, pipeline, lock; no cache, no outputs). */
function clone(t: Ctx, dir: string): string {
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: 'ignore' });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'state', '--allow-empty');
  const other = join(tempDir(t), 'b');
  git(dir, 'clone', '-q', dir, other);
  return other;
}

/** Adds an S3 remote on a fresh s3rver (credentials in config.local, which a clone must set again). */
async function s3Remote(t: Ctx, dir: string, bucket = 'team'): Promise<{ endpoint: string; data: string }> {
  const server = await startS3Server(t, [bucket]);
  await ok(dir, 'remote', 'add', '-d', 'store', `s3://${bucket}/projects/a`);
  await s3Credentials(dir, server.endpoint);
  return { endpoint: server.endpoint, data: server.directory };
}

async function s3Credentials(dir: string, endpoint: string, secret = 'S3RVER'): Promise<void> {
  await ok(dir, 'remote', 'modify', 'store', 'endpointurl', endpoint);
  await ok(dir, 'remote', 'modify', 'store', 'access_key_id', 'S3RVER');
  await ok(dir, 'remote', 'modify', 'store', 'secret_access_key', secret);
}

const backends: Record<string, (t: Ctx, dir: string) => Promise<{ setUp: (other: string) => Promise<void> }>> = {
  folder: async (t, dir) => {
    const remote = join(tempDir(t), 'shared');
    await ok(dir, 'remote', 'add', '-d', 'store', remote);
    return { setUp: async () => {} };
  },
  s3: async (t, dir) => {
    const { endpoint } = await s3Remote(t, dir);
    return { setUp: (other) => s3Credentials(other, endpoint) };
  },
};

for (const [name, add] of Object.entries(backends)) {
  test(`${name}: push, status -c, then a clone pulls the outputs and its repro runs nothing`, async (t) => {
    const dir = await project(t);
    const { setUp } = await add(t, dir);
    const before = await ok(dir, 'status', '-c', '--json');
    assert.deepEqual(JSON.parse(before.stdout), { out: 'new', 'model.txt': 'new' });
    const pushed = await ok(dir, 'push');
    // 5 files + the manifest + model.txt: one summary line, as in CI.
    assert.match(pushed.stdout, /^7 object\(s\) pushed to 'store' \(\d+ B\), 0 up to date\n$/);
    assert.doesNotMatch(pushed.stderr, /NodeVersionSupportWarning/, 'no SDK notice on every S3 command');
    assert.equal((await ok(dir, 'status', '-c')).stdout, "Cache and remote 'store' are in sync.\n");
    assert.match((await ok(dir, 'push')).stdout, /^0 object\(s\) pushed .* 2 up to date\n$/);

    const other = clone(t, dir);
    await setUp(other);
    assert.deepEqual(JSON.parse((await ok(other, 'status', '-c', '--json')).stdout), { out: 'deleted', 'model.txt': 'deleted' });
    const pulled = await ok(other, 'pull');
    assert.match(pulled.stdout, /^7 object\(s\) fetched from 'store' .*2 output\(s\) restored\n$/);
    assert.equal(readFileSync(join(other, 'out', 'f3.txt'), 'utf8'), '1 3\n');
    // model.txt was written beside its download and renamed into place: writable, nothing left beside it.
    assert.equal(statSync(join(other, 'model.txt')).mode & 0o200, 0o200);
    assert.deepEqual(readdirSync(other).filter((n) => n.includes('.tmp-')), []);
    const repro = await ok(other, 'repro');
    assert.doesNotMatch(repro.stdout, /running|ran /i);
    assert.ok(!existsSync(join(other, '..', 'ran.log')), 'the stage ran in the clone');
    assert.match((await ok(other, 'pull')).stdout, /^0 object\(s\) fetched .* 2 up to date, 0 output\(s\) restored\n$/);
  });
}

test('folder: the remote is in DVC 3 layout, a manifest goes up only after its files, fetch leaves the workspace alone', async (t) => {
  const dir = await project(t);
  const remote = join(tempDir(t), 'shared');
  await ok(dir, 'remote', 'add', '-d', 'store', remote);
  const lock = readFileSync(join(dir, 'pipeline.lock'), 'utf8');
  const dirMd5 = /path: out\n\s+hash: md5\n\s+md5: ([0-9a-f]{32}\.dir)/.exec(lock)![1]!;
  await ok(dir, 'push');
  const manifest = join(remote, 'files', 'md5', dirMd5.slice(0, 2), dirMd5.slice(2));
  const entries = JSON.parse(readFileSync(manifest, 'utf8')) as { md5: string; relpath: string }[];
  assert.equal(entries.length, 5);
  for (const e of entries) assert.ok(existsSync(join(remote, 'files', 'md5', e.md5.slice(0, 2), e.md5.slice(2))));

  const other = clone(t, dir);
  await ok(other, 'fetch');
  assert.ok(!existsSync(join(other, 'out')), 'fetch restored an output');
  assert.ok(existsSync(join(other, '.mlops', 'cache', 'files', 'md5', dirMd5.slice(0, 2), dirMd5.slice(2))));
  await ok(other, 'checkout');
  assert.equal(readFileSync(join(other, 'model.txt'), 'utf8'), '1\n');
});

for (const [name, add] of Object.entries(backends)) {
  test(`${name}: status -c takes a manifest on the remote for its files, as DVC; --all-files finds one lost behind it, and the next push restores it`, async (t) => {
    const dir = await project(t);
    await add(t, dir);
    await ok(dir, 'push');
    const lock = readFileSync(join(dir, 'pipeline.lock'), 'utf8');
    const dirMd5 = /path: out\n\s+hash: md5\n\s+md5: ([0-9a-f]{32}\.dir)/.exec(lock)![1]!;
    const lost = (JSON.parse(readFileSync(join(dir, '.mlops', 'cache', 'files', 'md5', dirMd5.slice(0, 2), dirMd5.slice(2)), 'utf8')) as { md5: string }[])[2]!.md5;
    // Lost behind the manifest's back (another project's gc, a hand deletion), through the remote's own means.
    const config = readFileSync(join(dir, '.mlops', 'config'), 'utf8') + (existsSync(join(dir, '.mlops', 'config.local')) ? readFileSync(join(dir, '.mlops', 'config.local'), 'utf8') : '');
    const endpoint = /endpointurl = (\S+)/.exec(config)?.[1];
    const key = `files/md5/${lost.slice(0, 2)}/${lost.slice(2)}`;
    if (endpoint) {
      const { S3Client, DeleteObjectCommand } = await import('@aws-sdk/client-s3');
      const s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      await s3.send(new DeleteObjectCommand({ Bucket: 'team', Key: `projects/a/${key}` }));
      s3.destroy();
    } else rmSync(join(/url = (\S+)/.exec(config)![1]!, ...key.split('/')));

    // The manifest answers for its files: one request, whatever the directory's size.
    assert.equal((await ok(dir, 'status', '-c')).stdout, "Cache and remote 'store' are in sync.\n");
    assert.deepEqual(JSON.parse((await ok(dir, 'status', '-c', '--all-files', '--json')).stdout), { out: 'new' });
    assert.match((await ok(dir, 'push')).stdout, /^1 object\(s\) pushed to 'store'/);
    assert.equal((await ok(dir, 'status', '-c', '--all-files')).stdout, "Cache and remote 'store' are in sync.\n");
    const misuse = await runMlops(['status', '--all-files'], { cwd: dir });
    assert.equal(misuse.code, 2);
    assert.equal(misuse.stderr, 'error: -r, -j and --all-files go with -c (--cloud)\n');
  });
}

test('run-cache: push --run-cache, and a clone that pulls it restores an earlier result without running', async (t) => {
  const dir = await project(t);
  writeFileSync(join(dir, 'params.yaml'), 'n: 2\n');
  await ok(dir, 'repro');
  const remote = join(tempDir(t), 'shared');
  await ok(dir, 'remote', 'add', '-d', 'store', remote);
  await ok(dir, 'push', '--run-cache');
  assert.ok(readdirSync(join(remote, 'runs')).length > 0);

  const other = clone(t, dir); // at n: 2
  await ok(other, 'pull', '--run-cache');
  writeFileSync(join(other, 'params.yaml'), 'n: 1\n');
  const repro = await ok(other, 'repro');
  assert.match(repro.stdout, /restored from run-cache/);
  assert.equal(readFileSync(join(other, 'out', 'f1.txt'), 'utf8'), '1 1\n');
  assert.equal(readFileSync(join(dir, '..', 'ran.log'), 'utf8'), 'ran\nran\n'); // only the first project's two runs
});

test('a corrupted object on the remote is reported, never enters the cache, and its output is not restored', async (t) => {
  const dir = await project(t);
  const remote = join(tempDir(t), 'shared');
  await ok(dir, 'remote', 'add', '-d', 'store', remote);
  await ok(dir, 'push');
  const lock = readFileSync(join(dir, 'pipeline.lock'), 'utf8');
  const fileMd5 = /path: model.txt\n\s+hash: md5\n\s+md5: ([0-9a-f]{32})/.exec(lock)![1]!;
  const object = join(remote, 'files', 'md5', fileMd5.slice(0, 2), fileMd5.slice(2));
  chmodSync(object, 0o644);
  writeFileSync(object, 'tampered\n');

  const other = clone(t, dir);
  const r = await runMlops(['pull'], { cwd: other });
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`error: model.txt \\(${fileMd5}\\): remote 'store': object files/md5/${fileMd5.slice(0, 2)}/${fileMd5.slice(2)} is corrupted`));
  assert.ok(!existsSync(join(other, '.mlops', 'cache', 'files', 'md5', fileMd5.slice(0, 2), fileMd5.slice(2))));
  assert.ok(!existsSync(join(other, 'model.txt')));
  assert.equal(readFileSync(join(other, 'out', 'f1.txt'), 'utf8'), '1 1\n'); // the rest is pulled
  const tempsLeft = readdirSync(join(other, '.mlops', 'cache', 'files', 'md5'), { recursive: true }).filter((n) => String(n).includes('.tmp-'));
  assert.deepEqual(tempsLeft, []);
});

test('s3: a corrupted object on the server is refused the same way', async (t) => {
  const dir = await project(t);
  const { endpoint, data } = await s3Remote(t, dir);
  await ok(dir, 'push');
  const lock = readFileSync(join(dir, 'pipeline.lock'), 'utf8');
  const fileMd5 = /path: model.txt\n\s+hash: md5\n\s+md5: ([0-9a-f]{32})/.exec(lock)![1]!;
  // s3rver keeps an object's bytes in `<key>._S3rver_object`.
  writeFileSync(join(data, 'team', 'projects', 'a', 'files', 'md5', fileMd5.slice(0, 2), `${fileMd5.slice(2)}._S3rver_object`), 'tamper\n');
  const other = clone(t, dir);
  await s3Credentials(other, endpoint);
  const r = await runMlops(['fetch'], { cwd: other });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /model\.txt .*: remote 'store': object files\/md5\/.* is corrupted/);
  assert.ok(!existsSync(join(other, '.mlops', 'cache', 'files', 'md5', fileMd5.slice(0, 2), fileMd5.slice(2))));
});

test('s3: wrong credentials (the server answers 403), a missing bucket, an unreachable endpoint: one line each', async (t) => {
  const dir = await project(t);
  const { endpoint } = await s3Remote(t, dir);
  // s3rver checks the access key id (403 InvalidAccessKeyId) but not SigV4 signatures, so a wrong key
  // id is the wrong credential it can refuse; the 403 is the server's own answer.
  await ok(dir, 'remote', 'modify', 'store', 'access_key_id', 'NOT-A-KEY');
  const denied = await runMlops(['push'], { cwd: dir });
  assert.equal(denied.code, 2);
  assert.match(denied.stderr, /^error: s3:\/\/team\/projects\/a \(bucket team\): access denied \(\w+\): check the remote's credentials\n$/);

  await ok(dir, 'remote', 'modify', 'store', 'access_key_id', 'S3RVER');
  await ok(dir, 'remote', 'modify', 'store', 'url', 's3://no-such-bucket/x');
  const missing = await runMlops(['status', '-c'], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, "error: s3://no-such-bucket/x: bucket 'no-such-bucket' does not exist\n");

  await ok(dir, 'remote', 'modify', 'store', 'url', 's3://team/projects/a');
  // A port nothing listens on (the server's, once it is stopped would race): port 1 on 127.0.0.1.
  await ok(dir, 'remote', 'modify', 'store', 'endpointurl', 'http://127.0.0.1:1');
  const started = Date.now();
  const unreachable = await runMlops(['push'], { cwd: dir });
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /^error: s3:\/\/team\/projects\/a \(bucket team\): ECONNREFUSED.*\(gave up after 3 attempts\)\n$/);
  assert.ok(Date.now() - started < 20_000);
  assert.ok(endpoint);
});

test('kill -9 in the middle of a push to S3 leaves no half object; the next push finishes and a clone gets it all', async (t) => {
  const base = tempDir(t);
  const dir = join(base, 'a');
  // Several multipart-sized files, one at a time (-j 1), so the kill lands mid-transfer.
  const sizeMb = 20;
  writeFiles(dir, {
    'pipeline.yaml': `stages:\n  big:\n    cmd: mkdir -p big && for i in 1 2 3 4; do head -c ${sizeMb}M /dev/urandom > big/b$i; done\n    outs: [big]\n`,
    '.mlops/.gitignore': '/*\n!/.gitignore\n!/config\n',
  });
  gitInit(dir);
  await ok(dir, 'repro');
  const { endpoint, data } = await s3Remote(t, dir);
  const child = spawn(process.execPath, [MLOPS_BIN, 'push', '-j', '1'], { cwd: dir, env: { ...process.env, CI: 'true', MLOPS_ROOT: '' }, stdio: 'ignore' });
  const objects = join(data, 'team', 'projects', 'a', 'files', 'md5');
  const landed = () => (existsSync(objects) ? readdirSync(objects, { recursive: true }).filter((n) => String(n).endsWith('._S3rver_object')).length : 0);
  const deadline = Date.now() + 60_000;
  while (landed() < 1 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const afterKill = landed();
  assert.ok(afterKill >= 1 && afterKill < 5, `objects after the kill: ${afterKill}`);

  const again = await ok(dir, 'push');
  assert.match(again.stdout, /object\(s\) pushed/);
  assert.equal((await ok(dir, 'status', '-c')).stdout, "Cache and remote 'store' are in sync.\n");
  const other = clone(t, dir);
  await s3Credentials(other, endpoint);
  await ok(other, 'pull');
  assert.equal(readdirSync(join(other, 'big')).length, 4);
  const md5sum = (path: string) => execFileSync('md5sum', [path], { encoding: 'utf8' }).split(' ')[0];
  for (const f of readdirSync(join(dir, 'big'))) assert.equal(md5sum(join(other, 'big', f)), md5sum(join(dir, 'big', f)));
});

/**
 * A clone pulling a 96 MiB object from S3, stopped by `signal` once more than its first part has landed;
 * with `terminal`, on a pseudo-terminal (script), whose output is returned.
 */
async function stoppedPull(t: Ctx, signal: NodeJS.Signals, terminal = false) {
  const dir = join(tempDir(t), 'a');
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  big:\n    cmd: head -c 96M /dev/urandom > big.bin\n    outs: [big.bin]\n', '.mlops/.gitignore': '/*\n!/.gitignore\n!/config\n' });
  gitInit(dir);
  await ok(dir, 'repro');
  const { endpoint } = await s3Remote(t, dir);
  await ok(dir, 'push');
  const other = clone(t, dir);
  await s3Credentials(other, endpoint);
  const md5 = /md5: ([0-9a-f]{32})/.exec(readFileSync(join(dir, 'pipeline.lock'), 'utf8'))![1]!;
  const folder = join(other, '.mlops', 'cache', 'files', 'md5', md5.slice(0, 2));
  const object = join(folder, md5.slice(2));
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', MLOPS_ROOT: '' };
  if (terminal) delete env.CI;
  const child = terminal
    ? spawn('script', ['-qec', `stty cols 120; exec ${process.execPath} ${MLOPS_BIN} pull`, '/dev/null'], { cwd: other, env, stdio: ['ignore', 'pipe', 'ignore'] })
    : spawn(process.execPath, [MLOPS_BIN, 'pull'], { cwd: other, env, stdio: 'ignore' });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  // Stopped once its parts have started landing in the temp file (more than the first part's 8 MiB).
  const landed = () => (existsSync(folder) ? readdirSync(folder).filter((n) => n.includes('.tmp-')).reduce((sum, n) => sum + statSafe(join(folder, n)), 0) : 0);
  const deadline = Date.now() + 60_000;
  while (landed() < 16 << 20 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  // On a terminal the signal goes to the pull itself, script's child, as a terminal's Ctrl-C would.
  if (terminal) process.kill(Number(execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim()), signal);
  else child.kill(signal);
  const code = await new Promise<number | null>((r) => child.on('exit', (exitCode) => r(exitCode)));
  assert.ok(!existsSync(object), 'a half object under its name');
  assert.ok(!existsSync(join(other, 'big.bin')));
  const md5sum = (path: string) => execFileSync('md5sum', [path], { encoding: 'utf8' }).split(' ')[0];
  return { other, folder, object, md5, code, output, md5sum, workspaceTemps: () => readdirSync(other).filter((n) => n.startsWith('big.bin.tmp-')) };
}

test('kill -9 in the middle of a pull of a big object from S3 leaves nothing under its name; the next pull gets it whole', async (t) => {
  const { other, object, md5, md5sum, workspaceTemps } = await stoppedPull(t, 'SIGKILL');
  // The workspace copy was being written beside the download, under a temp name only.
  assert.equal(workspaceTemps().length, 1);
  assert.match((await ok(other, 'pull')).stdout, /^1 object\(s\) fetched .* 1 output\(s\) restored\n$/);
  assert.equal(md5sum(object), md5);
  assert.equal(md5sum(join(other, 'big.bin')), md5);
  assert.deepEqual(workspaceTemps(), [], 'the killed pull\'s copy is removed by the next one');
});

test('Ctrl-C in the middle of a pull on a terminal: exit 130, the bar wiped, and neither the cache nor the workspace keeps a temp file', async (t) => {
  const { folder, code, output, workspaceTemps } = await stoppedPull(t, 'SIGINT', true);
  assert.equal(code, 130);
  // the lock file sizes the output: the bar fills by bytes of the 96 MiB
  assert.match(output, /fetching \[[#.]+\] 0\/1 objects, [\d.]+ k?M?B\/100\.7 MB/);
  assert.ok(output.endsWith('\r\x1b[K'), `the bar is left on the screen: ${JSON.stringify(output.slice(-120))}`);
  assert.deepEqual(readdirSync(folder).filter((n) => n.includes('.tmp-')), []);
  assert.deepEqual(workspaceTemps(), []);
});

const statSafe = (path: string) => {
  try {
    return statSync(path).size;
  } catch {
    return 0; // renamed or removed meanwhile
  }
};

for (const [name, add] of Object.entries(backends)) {
  // On S3 the object is above one part: the pull compares the output with the parts as they land.
  test(`${name}: a pull over an output already in the workspace: the same bytes are left alone, other bytes of the same size are a modification`, async (t) => {
    const size = name === 's3' ? 20 * 1024 * 1024 + 5 : 3_000_000;
    const dir = join(tempDir(t), 'a');
    writeFiles(dir, { 'pipeline.yaml': `stages:\n  big:\n    cmd: head -c ${size} /dev/urandom > big.bin\n    outs: [big.bin]\n`, '.mlops/.gitignore': '/*\n!/.gitignore\n!/config\n' });
    gitInit(dir);
    await ok(dir, 'repro');
    const { setUp } = await add(t, dir);
    await ok(dir, 'push');
    const bytes = readFileSync(join(dir, 'big.bin'));

    // Here the state store knows big.bin holds the object: the pull downloads it and leaves the file be.
    rmSync(join(dir, '.mlops', 'cache'), { recursive: true, force: true });
    const before = statSync(join(dir, 'big.bin'));
    assert.match((await ok(dir, 'pull')).stdout, /^1 object\(s\) fetched .* 0 output\(s\) restored\n$/);
    assert.deepEqual([statSync(join(dir, 'big.bin')).ino, statSync(join(dir, 'big.bin')).mtimeMs], [before.ino, before.mtimeMs]);

    const same = clone(t, dir);
    await setUp(same);
    writeFileSync(join(same, 'big.bin'), bytes);
    assert.match((await ok(same, 'pull')).stdout, /^1 object\(s\) fetched .* 0 output\(s\) restored\n$/);
    assert.ok(readFileSync(join(same, 'big.bin')).equals(bytes));

    const changed = clone(t, dir);
    await setUp(changed);
    const other = Buffer.from(bytes);
    other[Math.floor((size * 2) / 3)] ^= 1;
    writeFileSync(join(changed, 'big.bin'), other);
    const refused = await runMlops(['pull'], { cwd: changed });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /modified outputs would be overwritten .*: big\.bin/);
    assert.ok(readFileSync(join(changed, 'big.bin')).equals(other));
    await ok(changed, 'pull', '--force');
    assert.ok(readFileSync(join(changed, 'big.bin')).equals(bytes));
  });
}

test('remote add/list/modify/default/remove, in .mlops/config, credentials in config.local; bad input is one line, exit 2', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { '.mlops/config': '# team settings\n[tracking]\n    experiment = x\n', '.mlops/.gitignore': '*\n' });
  gitInit(dir);
  await ok(dir, 'remote', 'add', 'nas', '/mnt/nas/mlops');
  await ok(dir, 'remote', 'add', '-d', 'cloud', 's3://bucket/path');
  await ok(dir, 'remote', 'modify', 'cloud', 'region', 'eu-west-1');
  const secret = await ok(dir, 'remote', 'modify', 'cloud', 'secret_access_key', 'abc');
  assert.match(secret.stderr, /secret_access_key written to .*config\.local \(git-ignored\)/);
  const shared = readFileSync(join(dir, '.mlops', 'config'), 'utf8');
  assert.match(shared, /^# team settings\n\[tracking\]\n {4}experiment = x\n/);
  assert.match(shared, /\['remote "cloud"'\]\n {4}url = s3:\/\/bucket\/path\n {4}region = eu-west-1\n/);
  assert.doesNotMatch(shared, /abc/);
  assert.match(readFileSync(join(dir, '.mlops', 'config.local'), 'utf8'), /secret_access_key = abc/);
  assert.equal((await ok(dir, 'remote', 'list')).stdout, 'nas\t/mnt/nas/mlops\ncloud\ts3://bucket/path\t(default)\n');
  assert.equal((await ok(dir, 'remote', 'default')).stdout, 'cloud\n');
  await ok(dir, 'remote', 'default', 'nas');
  await ok(dir, 'remote', 'remove', 'nas');
  assert.equal((await ok(dir, 'remote', 'list')).stdout, 'cloud\ts3://bucket/path\n');
  assert.doesNotMatch(readFileSync(join(dir, '.mlops', 'config'), 'utf8'), /nas|\[core\]/);

  const noDefault = await runMlops(['push'], { cwd: dir });
  assert.equal(noDefault.code, 2);
  assert.match(noDefault.stderr, /^error: no default remote: pass -r NAME \(one of cloud\)/);
  const unknown = await runMlops(['pull', '-r', 'clod'], { cwd: dir });
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "error: unknown remote 'clod' (did you mean 'cloud'?)\n");
  const twice = await runMlops(['remote', 'add', 'cloud', 's3://other'], { cwd: dir });
  assert.equal(twice.code, 2);
  const scheme = await runMlops(['remote', 'add', 'g', 'gs://bucket/x'], { cwd: dir });
  assert.equal(scheme.code, 2);
  assert.match(scheme.stderr, /unsupported remote 'gs:\/\/bucket\/x'/);
  writeFileSync(join(dir, '.mlops', 'config'), "['remote \"bad\"']\n    url = s3://B_ad\n[core]\n    remote = bad\n");
  const malformed = await runMlops(['status', '-c'], { cwd: dir });
  assert.equal(malformed.code, 2);
  assert.equal(malformed.stderr, "error: .mlops/config:2: 'remote.bad.url': 's3://B_ad': 'B_ad' is not a valid S3 bucket name\n");
  const key = await runMlops(['remote', 'modify', 'bad', 'endpoint_url', 'x'], { cwd: dir });
  assert.equal(key.code, 2);
  assert.match(key.stderr, /did you mean 'endpointurl'/);
});

test('in a DVC repository, remotes are read from and written to .dvc/config, where dvc finds them', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { '.dvc/config': "[core]\n    remote = storage\n['remote \"storage\"']\n    url = ../dvc-storage\n", '.dvc/.gitignore': '/cache\n' });
  gitInit(dir);
  assert.equal((await ok(dir, 'remote', 'list')).stdout, 'storage\t../dvc-storage\t(default)\n');
  await ok(dir, 'remote', 'add', 'backup', 's3://bucket/dvc');
  await ok(dir, 'remote', 'modify', 'backup', 'access_key_id', 'AKIA');
  assert.match(readFileSync(join(dir, '.dvc', 'config'), 'utf8'), /\['remote "backup"'\]\n {4}url = s3:\/\/bucket\/dvc\n/);
  assert.match(readFileSync(join(dir, '.dvc', 'config.local'), 'utf8'), /access_key_id = AKIA/);
  // Relative to .dvc/, as DVC reads it: a push with nothing to send still opens the right folder.
  assert.match((await ok(dir, 'push')).stdout, /^0 object\(s\) pushed to 'storage'/);
});

test('registry: push sends registered versions\' files; a machine with the registry and an empty cache fetches them', async (t) => {
  const dir = tempDir(t);
  const params = smallParams({ grid: { n_estimators: [5], max_depth: [3] }, rest: '' });
  writeFiles(dir, { 'params.yaml': params, 'data/raw/obesity.csv': generateObesity(200, 11), '.mlops/.gitignore': '*\n' });
  gitInit(dir);
  await ok(dir, 'prepare');
  await ok(dir, 'train');
  const version = JSON.parse((await ok(dir, 'models', 'register', 'clf', '--json')).stdout) as { content: string; files: Record<string, string> };
  const remote = join(tempDir(t), 'shared');
  await ok(dir, 'remote', 'add', '-d', 'store', remote);
  const pushed = await ok(dir, 'push');
  const objects = [version.content, ...Object.values(version.files)];
  assert.match(pushed.stdout, new RegExp(`^${objects.length} object\\(s\\) pushed`));
  const at = (root: string, md5: string) => join(root, 'files', 'md5', md5.slice(0, 2), md5.slice(2));
  for (const md5 of objects) assert.ok(existsSync(at(remote, md5)), md5);
  assert.equal((await ok(dir, 'status', '-c')).stdout, "Cache and remote 'store' are in sync.\n");

  rmSync(join(dir, '.mlops', 'cache'), { recursive: true });
  assert.doesNotMatch((await ok(dir, 'models', 'show', 'clf')).stdout, /^v1 .* ok$/m);
  assert.deepEqual(JSON.parse((await ok(dir, 'status', '-c', '--json')).stdout), Object.fromEntries(objects.map((m) => [`registry:${m}`, 'deleted'])));
  await ok(dir, 'fetch');
  for (const md5 of objects) assert.ok(existsSync(at(join(dir, '.mlops', 'cache'), md5)), md5);
  // The registry checks every file of the version against its md5: intact again.
  assert.match((await ok(dir, 'models', 'show', 'clf')).stdout, /^v1 .* ok$/m);
});

test('on a terminal, push draws a progress bar of objects and bytes; in CI one summary line', async (t) => {
  const dir = await project(t);
  await ok(dir, 'remote', 'add', '-d', 'store', join(tempDir(t), 'shared'));
  const env = { ...process.env, CI: '', MLOPS_ROOT: '' };
  delete (env as Record<string, string | undefined>).CI;
  const out = execFileSync('script', ['-qec', `stty cols 120; ${process.execPath} ${MLOPS_BIN} push -j 1`, '/dev/null'], { cwd: dir, env, encoding: 'utf8' });
  assert.match(out, /pushing \[[#.]+\] \d+\/7 objects, \d+ B\/\d+ B/);
  assert.match(out, /7 object\(s\) pushed to 'store'/);
});

test('a full disk during pull: one line per object naming the remote, exit 1, nothing half-written in the cache', async (t) => {
  const dir = join(tempDir(t), 'a');
  writeFiles(dir, { 'pipeline.yaml': 'stages:\n  big:\n    cmd: head -c 1000000 /dev/urandom > big.bin\n    outs: [big.bin]\n', '.mlops/.gitignore': '/*\n!/.gitignore\n!/config\n' });
  gitInit(dir);
  await ok(dir, 'repro');
  const remote = join(tempDir(t), 'shared');
  await ok(dir, 'remote', 'add', '-d', 'store', remote);
  await ok(dir, 'push');
  const other = clone(t, dir);
  // A 256 kB file system as the clone's cache: the 1 MB object cannot fit.
  const small = mkdtempSync(join(tmpdir(), 'mlops-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small], { stdio: 'ignore' });
  } catch {
    rmSync(small, { recursive: true });
    t.skip('mounting a small tmpfs needs root');
    return;
  }
  t.after(() => {
    execFileSync('umount', [small]);
    rmSync(small, { recursive: true });
  });
  await ok(other, 'config', '--local', 'cache.dir', small);
  const r = await runMlops(['pull'], { cwd: other });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: big\.bin \([0-9a-f]{32}\): remote 'store': files\/md5\/[0-9a-f]{2}\/[0-9a-f]{30} could not be written into the cache \(ENOSPC\)\n/);
  const left = readdirSync(small, { recursive: true }).map(String).filter((n) => /\/[0-9a-f]{30}/.test(n));
  assert.deepEqual(left, []);
  assert.ok(!existsSync(join(other, 'big.bin')));
});
