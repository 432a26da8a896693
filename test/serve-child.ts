import { spawn, type ChildProcess } from 'node:child_process';
import { MLOPS_BIN } from './helpers.js';

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
