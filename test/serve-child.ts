import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateObesity } from '../src/ml/synthetic.js';
import { gitInit, MLOPS_BIN, projectCli, writeFiles } from './helpers.js';

/** A real `mlops serve` child process on a free port in `dir`; resolves with its URL once it listens. */
export async function startServe(dir: string, args: readonly string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MLOPS_BIN, 'serve', ...args, '--port', '0', '--reload-interval', '0'], {
    cwd: dir,
    env: { ...process.env, CI: 'true', MLOPS_ROOT: dir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      const m = / at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`mlops serve exited ${code}: ${stderr}`)));
  });
  return { child, url };
}

/** Stops a server gracefully (SIGTERM: it writes the prediction log's last batch first). */
export async function stopServe(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (child.exitCode === null) await once(child, 'exit');
}

/**
 * Posts the rows of a CSV whose last column is the label (generateObesity's) to /predict in one batch,
 * numbers as numbers; returns the request id and the labels, row by row, for `monitor outcomes`.
 */
export async function predictCsv(url: string, csv: string): Promise<{ requestId: string; labels: string[] }> {
  const [head, ...lines] = csv.trim().split('\n');
  const header = head!.split(',');
  const cells = lines.map((l) => l.split(','));
  const records = cells.map((row) => Object.fromEntries(header.slice(0, -1).map((c, j) => [c, Number.isNaN(Number(row[j])) ? row[j] : Number(row[j])])));
  const response = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) });
  if (response.status !== 200) throw new Error(`/predict: ${response.status} ${await response.text()}`);
  const { request_id } = (await response.json()) as { request_id: string };
  return { requestId: request_id, labels: cells.map((row) => row.at(-1)!) };
}

/**
 * A temp project (git, `prefix` in its name) with `params` trained on `rows` generated rows and
 * registered as obesity_classifier@champion: what the monitoring tests serve.
 */
export async function championProject(prefix: string, params: string, rows: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFiles(dir, { 'params.yaml': params, 'data/raw/obesity.csv': generateObesity(rows, 11), '.mlops/.gitignore': '*\n' });
  gitInit(dir);
  const { ok } = projectCli(() => dir);
  await ok('prepare');
  await ok('train');
  await ok('models', 'register', 'obesity_classifier', '--alias', 'champion');
  return dir;
}
