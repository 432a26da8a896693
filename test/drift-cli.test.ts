import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { OBESITY_CSV, runMlops, tempDir, writeFiles } from './helpers.js';

const csv = (header: string, rows: (string | number)[][]) => `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
const range = (n: number, f: (i: number) => (string | number)[]) => Array.from({ length: n }, (_, i) => f(i));

// Reference: x = 0..39, colour balanced; current: x shifted by 30, colour mostly red; level has 3 values.
const FILES = {
  'ref.csv': csv('x,colour,level', range(40, (i) => [i, i % 2 ? 'red' : 'blue', i % 3])),
  'cur.csv': csv('x,colour,level', range(40, (i) => [i + 30, i % 8 ? 'red' : 'blue', i % 3])),
};

test('--json prints the documented shape with KS for numeric and chi-square for categorical columns', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, FILES);
  const r = await runMlops(['drift', '--reference', 'ref.csv', '--current', 'cur.csv', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(report.columns), ['x', 'colour', 'level']);
  const x = report.columns.x;
  assert.equal(x.type, 'numeric');
  assert.equal(x.test, 'ks');
  assert.equal(x.statistic, 0.75); // 30 of 40 reference values lie below every current value
  assert.equal(x.method, 'exact');
  assert.equal(report.columns.colour.type, 'categorical');
  assert.equal(report.columns.colour.test, 'chi2');
  // Three distinct values: a numeric column tested as categories under --test auto.
  assert.equal(report.columns.level.type, 'numeric');
  assert.equal(report.columns.level.test, 'chi2');
  assert.equal(report.columns.level.statistic, 0);
  assert.equal(report.columns.level.drift, false);
  assert.equal(report.drift, true);
  assert.deepEqual(report.drifted_columns, ['x', 'colour']);
  assert.equal(report.threshold, 0.05);
  assert.equal(report.correction, 'bonferroni');
  for (const c of Object.values(report.columns) as { p_value: number; p_adjusted: number }[]) {
    assert.equal(c.p_adjusted, Math.min(1, c.p_value * 3));
  }
});

test('--md prints a markdown table and the summary; --fail-on-drift exits 1', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, FILES);
  const md = await runMlops(['drift', '--reference', 'ref.csv', '--current', 'cur.csv', '--md', '--test', 'ks'], { cwd: dir });
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /^\| column \| type \| test \| statistic \| p-value \| adjusted \| drift \|$/m);
  assert.match(md.stdout, /^\| level \| numeric \| ks \| 0 \| 1 \| 1 \| no \|$/m);
  assert.match(md.stdout, /drift detected in 2 of 3 columns \(66\.7%\): x, colour/);
  const gate = await runMlops(['drift', '--reference', 'ref.csv', '--current', 'cur.csv', '--fail-on-drift'], { cwd: dir });
  assert.equal(gate.code, 1);
  assert.match(gate.stdout, /^x +numeric +ks +0\.75 /m);
  assert.equal(gate.stderr.trim(), 'error: drift detected in 2 column(s): x, colour');
  const calm = await runMlops(['drift', '--reference', 'ref.csv', '--current', 'ref.csv', '--fail-on-drift'], { cwd: dir });
  assert.equal(calm.code, 0, calm.stderr);
  assert.match(calm.stdout, /no drift: 0 of 3 columns/);
});

// OBESITY_CSV sits beside the main checkout; a worktree elsewhere does not see it.
test('--test chi2 forces categories on numeric columns; --alternative and --report reach the KS test', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, FILES);
  const forced = await runMlops(['drift', '--reference', 'ref.csv', '--current', 'cur.csv', '--json', '--test', 'chi2'], { cwd: dir });
  assert.equal(forced.code, 0, forced.stderr);
  const x = JSON.parse(forced.stdout).columns.x;
  assert.deepEqual([x.type, x.test, x.dof], ['numeric', 'chi2', 69]); // 70 distinct values over both files

  const args = ['drift', '--reference', 'ref.csv', '--current', 'cur.csv', '--columns', 'x', '--alternative', 'less', '--report', 'out/r.json'];
  const less = await runMlops(args, { cwd: dir });
  assert.equal(less.code, 0, less.stderr);
  const written = JSON.parse(readFileSync(join(dir, 'out/r.json'), 'utf8'));
  const { ks2 } = await import('../src/drift/ks-test.js');
  const ref = Array.from({ length: 40 }, (_, i) => i);
  const expected = ks2(ref, ref.map((v) => v + 30), 'less');
  assert.equal(written.alternative, 'less');
  assert.equal(written.columns.x.statistic, expected.statistic);
  assert.equal(written.columns.x.p_value, expected.pValue);
  assert.equal(expected.statistic, 0); // the current sample is larger: F_cur never exceeds F_ref
});

const noObesity = existsSync(OBESITY_CSV) ? false : `no ${OBESITY_CSV}`;
test('the real obesity data against itself: 17 columns, no drift, D = 0 and p = 1 everywhere', { skip: noObesity }, async (t) => {
  const r = await runMlops(['drift', '--reference', OBESITY_CSV, '--current', OBESITY_CSV, '--json', '--correction', 'fdr'], { cwd: tempDir(t) });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(Object.keys(report.columns).length, 17);
  assert.equal(report.columns.Height.test, 'ks');
  assert.equal(report.columns.NObeyesdad.type, 'categorical');
  for (const c of Object.values(report.columns) as { statistic: number; p_value: number }[]) {
    assert.equal(c.statistic, 0);
    assert.equal(c.p_value, 1);
  }
  assert.equal(report.drift, false);
});

const BAD: [string, Record<string, string>, string[], RegExp][] = [
  ['a missing file', {}, ['--current', 'cur.csv'], /^error: nope\.csv: file not found$/],
  ['a column absent from one side', { 'cur.csv': csv('x,colour', [[1, 'a']]) }, [], /^error: cur\.csv: 'level': column missing/],
  ['headers that differ', { 'cur.csv': csv('x,color,level', [[1, 'a', 1]]) }, [], /^error: cur\.csv: 'colour': column missing/],
  ['a non-numeric value in a numeric column', { 'cur.csv': csv('x,colour,level', [[1, 'a', 1], ['oops', 'b', 2]]) }, [], /^error: cur\.csv:3: 'x': non-numeric value "oops" in a numeric column$/],
  ['an empty sample', { 'cur.csv': csv('x,colour,level', [['', 'a', 1]]) }, [], /^error: cur\.csv: 'x': no values in this column \(empty sample\)$/],
  ['a malformed row', { 'cur.csv': 'x,colour,level\n1,a,1,extra\n' }, [], /^error: cur\.csv:2: expected 3 fields as in the header, found 4$/],
  ['a file with no rows', { 'cur.csv': 'x,colour,level\n' }, [], /^error: cur\.csv: no data rows below the header$/],
  ['an unknown --columns name', {}, ['--columns', 'x,size'], /^error: ref\.csv: 'size': no such column$/],
  ['a bad --test', {}, ['--test', 'kss'], /^error: --test: expected one of auto, ks, chi2 \(did you mean 'ks'\?\)/],
  ['a bad --threshold', {}, ['--threshold', '5'], /^error: --threshold: expected a number between 0 and 1/],
  ['a bad --correction', {}, ['--correction', 'holm'], /^error: --correction: expected one of none, bonferroni, fdr/],
  ['--json with --md', {}, ['--json', '--md'], /^error: option '--md' cannot be used with option '--json'$/],
  ['--reference without --current', {}, ['--current'], /^error: --reference and --current go together/],
];

for (const [what, files, extra, message] of BAD) {
  test(`bad input exits 2 with one line: ${what}`, async (t) => {
    const dir = tempDir(t);
    writeFiles(dir, { ...FILES, ...files });
    const args =
      extra[0] === '--current'
        ? extra.length === 1
          ? ['--reference', 'ref.csv']
          : ['--reference', 'nope.csv', ...extra]
        : ['--reference', 'ref.csv', '--current', 'cur.csv', ...extra];
    const r = await runMlops(['drift', ...args], { cwd: dir });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), message);
    assert.equal(r.stdout, '');
  });
}

test('pipeline stage: params.yaml drift section, report written atomically, gate and unknown keys', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'data/prepared/train.csv': FILES['ref.csv'],
    'data/prepared/test.csv': FILES['cur.csv'],
    'params.yaml': 'drift:\n  reference: data/prepared/train.csv\n  current: data/prepared/test.csv\n  columns: [x, level]\n  correction: none\n',
  });
  const r = await runMlops(['drift'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(dir, 'reports/drift.json'), 'utf8'));
  assert.deepEqual(Object.keys(report.columns), ['x', 'level']);
  assert.equal(report.reference, 'data/prepared/train.csv');
  assert.deepEqual(report.drifted_columns, ['x']);

  writeFiles(dir, { 'params.yaml': 'drift:\n  reference: data/prepared/train.csv\n  current: data/prepared/test.csv\n  report: out/d.json\n  fail_on_drift: true\n' });
  const gate = await runMlops(['drift'], { cwd: dir });
  assert.equal(gate.code, 1);
  assert.ok(existsSync(join(dir, 'out/d.json')), 'the report is written before the gate fails');

  writeFiles(dir, { 'params.yaml': 'drift:\n  reference: data/prepared/train.csv\n  current: data/prepared/test.csv\n  treshold: 0.1\n' });
  const typo = await runMlops(['drift'], { cwd: dir });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /^error: params\.yaml:4: 'drift\.treshold': unknown key \(did you mean 'threshold'\?\)/);

  writeFiles(dir, { 'params.yaml': 'drift:\n  reference: data/prepared/train.csv\n  current: data/prepared/test.csv\n  alternative: bigger\n' });
  const bad = await runMlops(['drift'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: params\.yaml:4: 'drift\.alternative': expected one of two-sided, less, greater/);
});
