import { mkdirSync, mkdtempSync, openSync, rmSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadAverage, median, MLOPS_BIN, timeCommand } from './util.js';

const SMALL_FILES = 10_000;
// Times our hashing alone: the file is read and hashed exactly as a stage's dep is.
const HASH_SCRIPT = `import { md5File } from ${JSON.stringify(new URL('../src/cache/hash.js', import.meta.url).href)};
const start = performance.now(); await md5File(process.argv[1]); console.log(performance.now() - start);`;
const BIG_BYTES = 1024 ** 3;

/**
 * First and no-op `mlops repro` on a stage whose deps are a directory of 10,000 small files and a
 * 1 GiB file, against the floors: `find | xargs stat` over the same tree and `md5sum` of the big file.
 * Targets: no-op within 2x the stat floor; hashing at >= 90% of md5sum's throughput.
 */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-'));
  try {
    makeProject(dir);
    const statFloor = median(5, () => timeCommand('bash', ['-c', 'find data -type f | xargs stat > /dev/null'], dir));
    const md5sum = median(3, () => timeCommand('md5sum', ['data/big.bin'], dir));
    const first = timeCommand(process.execPath, [MLOPS_BIN, 'repro'], dir);
    const noop = median(9, () => timeCommand(process.execPath, [MLOPS_BIN, 'repro'], dir));
    const status = median(9, () => timeCommand(process.execPath, [MLOPS_BIN, 'status'], dir));
    // Cold state: every byte of the 1 GiB file read and hashed, start-up and parsing included.
    const coldBig = median(3, () => {
      rmSync(join(dir, '.mlops'), { recursive: true, force: true });
      return timeCommand(process.execPath, [MLOPS_BIN, 'status', '--file', 'big.yaml'], dir);
    });
    const inProcess = median(3, () => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', HASH_SCRIPT, join(dir, 'data', 'big.bin')], { encoding: 'utf8' });
      return Number(r.stdout);
    });
    const mb = BIG_BYTES / 1024 ** 2;
    console.log(`load average: ${loadAverage()}`);
    console.log(`floor  find | xargs stat (${SMALL_FILES} files)         ${statFloor.toFixed(0)} ms`);
    console.log(`floor  md5sum 1 GiB                               ${md5sum.toFixed(0)} ms (${(mb / (md5sum / 1000)).toFixed(0)} MiB/s)`);
    console.log(`mlops  first repro (hash all, run, cache the out) ${first.toFixed(0)} ms`);
    console.log(`mlops  no-op repro                                ${noop.toFixed(0)} ms = ${(noop / statFloor).toFixed(2)}x the stat floor (target <= 2x)`);
    console.log(`mlops  no-op status                               ${status.toFixed(0)} ms = ${(status / statFloor).toFixed(2)}x the stat floor`);
    console.log(
      `mlops  status, cold state, 1 GiB dep              ${coldBig.toFixed(0)} ms (${(mb / (coldBig / 1000)).toFixed(0)} MiB/s) = ` +
        `${((md5sum / coldBig) * 100).toFixed(0)}% of md5sum's throughput, start-up included (target >= 90%)`,
    );
    console.log(
      `mlops  md5File on the 1 GiB file, in process       ${inProcess.toFixed(0)} ms (${(mb / (inProcess / 1000)).toFixed(0)} MiB/s) = ` +
        `${((md5sum / inProcess) * 100).toFixed(0)}% of md5sum's throughput`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function makeProject(dir: string): void {
  const many = join(dir, 'data', 'many');
  for (let d = 0; d < 100; d++) {
    mkdirSync(join(many, String(d)), { recursive: true });
    for (let f = 0; f < SMALL_FILES / 100; f++) writeFileSync(join(many, String(d), `${f}.txt`), `file ${d}/${f}\n`);
  }
  const chunk = Buffer.allocUnsafe(16 * 1024 * 1024);
  const fd = openSync(join(dir, 'data', 'big.bin'), 'w');
  for (let written = 0; written < BIG_BYTES; written += chunk.length) writeSync(fd, randomFillSync(chunk));
  closeSync(fd);
  writeFileSync(
    join(dir, 'pipeline.yaml'),
    'stages:\n  count:\n    cmd: ls -R data/many | wc -l > count.txt\n    deps: [data/many, data/big.bin]\n    outs: [count.txt]\n',
  );
  writeFileSync(join(dir, 'big.yaml'), 'stages:\n  size:\n    cmd: wc -c data/big.bin > size.txt\n    deps: [data/big.bin]\n    outs: [size.txt]\n');
}
