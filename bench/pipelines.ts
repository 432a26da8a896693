import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAverage, median, MLOPS_BIN, timeCommand } from './util.js';

// No-op `mlops repro` where the work is shared or spread out, each against its floor measured in the
// same run: Node's start-up plus one stat of every file of the project (what any no-op check needs).
//   1. 20 stages that all depend on one directory of 10,000 files (hashed once, not 20 times);
//   2. 30 pipeline files of 10 stages each, in subfolders, run with -P from the root.
// Target for both: within 2x the floor.

const SHARED_FILES = 10_000;
const STAGES = 20;
const FILES = 30;
const STAGES_PER_FILE = 10;

// The floor: start Node, walk the project and stat every file once.
const STAT_ALL = `import { readdirSync, statSync } from 'node:fs';
const walk = (dir) => { for (const e of readdirSync(dir, { withFileTypes: true })) {
  if (e.name === '.mlops' || e.name === '.git') continue;
  const p = dir + '/' + e.name; if (e.isDirectory()) walk(p); else statSync(p); } };
walk(process.cwd());`;

export async function run(): Promise<void> {
  console.log(`load average: ${loadAverage()}`);
  await measure(`${STAGES} stages sharing a ${SHARED_FILES}-file dir`, sharedDir);
  await measure(`${FILES} pipeline files x ${STAGES_PER_FILE} stages`, manyFiles);
}

async function measure(label: string, make: (dir: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-'));
  try {
    make(dir);
    mkdirSync(join(dir, '.mlops'));
    timeCommand(process.execPath, [MLOPS_BIN, 'repro', '-P'], dir); // first run: hash, run, cache
    const floor = median(7, () => timeCommand(process.execPath, ['--input-type=module', '-e', STAT_ALL], dir));
    const noop = median(7, () => timeCommand(process.execPath, [MLOPS_BIN, 'repro', '-P'], dir));
    console.log(`floor  node start + stat of every file (${label})  ${floor.toFixed(0)} ms`);
    console.log(`mlops  no-op repro -P (${label})  ${noop.toFixed(0)} ms = ${(noop / floor).toFixed(2)}x the floor (target <= 2x)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sharedDir(dir: string): void {
  for (let d = 0; d < 100; d++) {
    mkdirSync(join(dir, 'data', 'shared', String(d)), { recursive: true });
    for (let f = 0; f < SHARED_FILES / 100; f++) writeFileSync(join(dir, 'data', 'shared', String(d), `${f}.txt`), `file ${d}/${f}\n`);
  }
  const stages = Array.from({ length: STAGES }, (_, i) => `  s${i}:\n    cmd: echo ${i} > out${i}.txt\n    deps: [data/shared]\n    outs: [out${i}.txt]\n`);
  writeFileSync(join(dir, 'dvc.yaml'), `stages:\n${stages.join('')}`);
}

function manyFiles(dir: string): void {
  writeFileSync(join(dir, 'params.yaml'), 'lr: 0.1\n');
  for (let p = 0; p < FILES; p++) {
    const sub = join(dir, 'pipelines', `p${p}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'input.txt'), `input ${p}\n`);
    // A chain within each file; each file's first stage reads the previous file's last output.
    const stages = Array.from({ length: STAGES_PER_FILE }, (_, i) => {
      const dep = i > 0 ? `s${i - 1}.txt` : p > 0 ? `../p${p - 1}/s${STAGES_PER_FILE - 1}.txt` : 'input.txt';
      return `  s${i}:\n    cmd: cat ${dep} > s${i}.txt\n    deps: [${dep}]\n    params: [{../../params.yaml: [lr]}]\n    outs: [s${i}.txt]\n`;
    });
    writeFileSync(join(sub, 'dvc.yaml'), `stages:\n${stages.join('')}`);
  }
}
