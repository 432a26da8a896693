import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAverage, median, MLOPS_BIN, timeCommand } from './util.js';

const FILES = 100_000;

/**
 * A dep folder of 100,000 small files (issue 9.15): no-op `status` against the stat floor measured in
 * the same run (`find | xargs stat` over the same tree), then `status` after one file is edited, with
 * its peak memory. Targets: no-op within 2x the stat floor; memory bounded (well under 460 MB).
 */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-bigdir-'));
  try {
    for (let d = 0; d < 100; d++) {
      mkdirSync(join(dir, 'data', String(d)), { recursive: true });
      for (let f = 0; f < FILES / 100; f++) writeFileSync(join(dir, 'data', String(d), `${f}.txt`), `file ${d}/${f}\n`);
    }
    writeFileSync(join(dir, 'pipeline.yaml'), 'stages:\n  count:\n    cmd: find data -type f | wc -l > count.txt\n    deps: [data]\n    outs: [count.txt]\n');
    const statFloor = median(3, () => timeCommand('bash', ['-c', 'find data -type f | xargs stat > /dev/null'], dir));
    const first = timeCommand(process.execPath, [MLOPS_BIN, 'repro'], dir);
    timeCommand(process.execPath, [MLOPS_BIN, 'status'], dir); // files younger than 2 s are hashed once more
    const noop = median(5, () => timeCommand(process.execPath, [MLOPS_BIN, 'status'], dir));
    const edited = median(3, () => {
      writeFileSync(join(dir, 'data', '7', '7.txt'), `edited ${Math.random()}\n`);
      return timeCommand(process.execPath, [MLOPS_BIN, 'status'], dir);
    });
    writeFileSync(join(dir, 'data', '7', '8.txt'), 'edited again\n');
    const peak = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, MLOPS_BIN, 'status'], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    const peakMb = Number(peak.stderr.trim().split('\n').pop()) / 1024;
    console.log(`load average: ${loadAverage()}`);
    console.log(`floor  find | xargs stat (${FILES} files)        ${statFloor.toFixed(0)} ms`);
    console.log(`mlops  first repro (hash all, run)               ${first.toFixed(0)} ms`);
    console.log(`mlops  no-op status                              ${noop.toFixed(0)} ms = ${(noop / statFloor).toFixed(2)}x the stat floor (target <= 2x)`);
    console.log(`mlops  status after one file edited              ${edited.toFixed(0)} ms = ${(edited / statFloor).toFixed(2)}x the stat floor`);
    console.log(`mlops  peak memory, status after one edit        ${Number.isFinite(peakMb) ? `${peakMb.toFixed(0)} MB` : 'n/a (no /usr/bin/time)'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
