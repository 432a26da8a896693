import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateObesity } from '../src/ml/synthetic.js';
import { runMlops, tempDir, writeFiles } from './helpers.js';

// Your own data's formats through the real CLI: separators, missing-value markers, large numbers,
// awkward column names, duplicate headers; and predict's output.

const RAW = generateObesity(200, 4);
const PARAMS = `prepare:
  input: data/in.csv
  target: NObeyesdad
  seed: 3
train:
  cv_folds: 3
  seed: 5
  workers: 1
  grid:
    n_estimators: [8]
`;

function project(t: { after(fn: () => void): void }, csv: string, params = PARAMS): string {
  const dir = tempDir(t);
  writeFiles(dir, { 'params.yaml': params, 'data/in.csv': csv });
  return dir;
}

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

test('a ; or tab separated file is detected and prepares exactly as the comma one', async (t) => {
  const comma = project(t, RAW);
  assert.equal((await runMlops(['prepare'], { cwd: comma })).code, 0);
  for (const sep of [';', '\t']) {
    const dir = project(t, RAW.replaceAll(',', sep));
    const r = await runMlops(['prepare'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(read(dir, 'data/prepared/train.csv'), read(comma, 'data/prepared/train.csv'));
  }
});

test('a wrong separator: one short located line with a hint, nothing written', async (t) => {
  const dir = project(t, RAW.replaceAll(',', ';'), PARAMS.replace('  seed: 3', "  seed: 3\n  sep: ','"));
  const r = await runMlops(['prepare'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.ok(r.stderr.length < 400, `error line of ${r.stderr.length} characters`);
  assert.match(r.stderr, /'prepare\.target': no column 'NObeyesdad' in data\/in\.csv \(columns: Gender;Age;.*\); the header has it when split on ";": set prepare\.sep/);
  assert.ok(!existsSync(join(dir, 'data/prepared')));
  // a header wider than a line is cut, whatever the file
  const wide = project(t, `${Array.from({ length: 3000 }, (_, i) => `c${i}`).join(';')}\n${'1;'.repeat(2999)}1\n`, PARAMS.replace('  seed: 3', "  seed: 3\n  sep: ','"));
  const w = await runMlops(['prepare'], { cwd: wide });
  assert.equal(w.code, 2);
  assert.ok(w.stderr.length < 400, `error line of ${w.stderr.length} characters`);
});

test("pandas' NA markers are missing: imputed in numeric columns, never a category; na_values adds more", async (t) => {
  const lines = RAW.trim().split('\n');
  const header = lines[0]!.split(',');
  const age = header.indexOf('Age');
  const mtrans = header.indexOf('MTRANS');
  const edit = (marker: string, catMarker: string) =>
    [lines[0], ...lines.slice(1).map((l, i) => {
      const cells = l.split(',');
      if (i % 10 === 0) cells[age] = marker;
      if (i % 10 === 1) cells[mtrans] = catMarker;
      return cells.join(',');
    })].join('\n') + '\n';
  const dir = project(t, edit('NA', 'NA'));
  const r = await runMlops(['prepare'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const transform = JSON.parse(read(dir, 'models/transform.json'));
  const mt = transform.columns.find((c: { name: string }) => c.name === 'MTRANS');
  assert.ok(!mt.categories.includes('NA'), 'NA is not a category');
  assert.equal(transform.columns.find((c: { name: string }) => c.name === 'Age').kind, 'numeric');
  assert.ok(!transform.features.includes('MTRANS_NA'));

  const question = project(t, edit('?', 'N/A'));
  const q = await runMlops(['prepare'], { cwd: question });
  assert.equal(q.code, 2, 'a ? is a value unless declared');
  assert.match(q.stderr, /^error: data\/in\.csv:2: 'Age': non-numeric value "\?" in numeric column \(add it to prepare\.na_values if it means missing\)\n$/);
  writeFiles(question, { 'params.yaml': PARAMS.replace('  seed: 3', "  seed: 3\n  na_values: ['?']") });
  const declared = await runMlops(['prepare'], { cwd: question });
  assert.equal(declared.code, 0, declared.stderr);
  // predict reads the same markers as prepare
  assert.equal((await runMlops(['train'], { cwd: question })).code, 0);
  const pr = await runMlops(['predict', '--input', 'data/in.csv'], { cwd: question });
  assert.equal(pr.code, 0, pr.stderr);
  assert.equal(pr.stdout.trim().split('\n').length, 201);
  // keep_default_na: false: NA is a category again, as in pandas
  writeFiles(question, { 'data/in.csv': edit('1', 'NA'), 'params.yaml': PARAMS.replace('  seed: 3', '  seed: 3\n  keep_default_na: false') });
  assert.equal((await runMlops(['prepare'], { cwd: question })).code, 0);
  assert.ok(JSON.parse(read(question, 'models/transform.json')).features.includes('MTRANS_NA'));
});

test('duplicate column names: one located error line, exit 2', async (t) => {
  const dir = project(t, RAW.replace('Gender,Age,', 'Gender,Age,Age_2,').replace(/^([^,\n]*,[^,\n]*,)/gm, (m, p, offset) => (offset === 0 ? m : `${p}1,`)).replace('Age_2', 'Gender'));
  const r = await runMlops(['prepare'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'error: data/in.csv:1: duplicate column name "Gender" (columns 1 and 3); rename one\n');
});

test('large numbers are numbers: 2^53 and more, 1e16, 1e308 in drift and predict', async (t) => {
  const dir = tempDir(t);
  const ref = ['ts,v', ...Array.from({ length: 60 }, (_, i) => `${1.7e18 + i * 1e12},${i % 2 ? '1e16' : '1e308'}`)].join('\n');
  const cur = ['ts,v', ...Array.from({ length: 60 }, (_, i) => `${1.8e18 + i * 1e12},${i % 3 ? '1e16' : '1e308'}`)].join('\n');
  writeFiles(dir, { 'ref.csv': ref + '\n', 'cur.csv': cur + '\n' });
  const r = await runMlops(['drift', '--reference', 'ref.csv', '--current', 'cur.csv', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.columns.ts.type, 'numeric');
  assert.equal(report.columns.ts.test, 'ks');
  assert.ok(report.columns.ts.p_value < 1e-10, 'disjoint timestamps drift');
  assert.equal(report.columns.v.type, 'numeric');

  const lines = RAW.trim().split('\n');
  const csv = [`${lines[0]},big`, ...lines.slice(1).map((l, i) => `${l},${i % 2 ? '9007199254740993' : '1e16'}`)].join('\n') + '\n';
  const ml = project(t, csv);
  for (const stage of ['prepare', 'train']) assert.equal((await runMlops([stage], { cwd: ml })).code, 0);
  assert.equal(JSON.parse(read(ml, 'models/transform.json')).columns.find((c: { name: string }) => c.name === 'big').kind, 'numeric');
  writeFiles(ml, { 'new.csv': csv.replace(/1e16\n/, '1e308\n') });
  const pr = await runMlops(['predict', '--input', 'new.csv'], { cwd: ml });
  assert.equal(pr.code, 0, pr.stderr);
});

test('a column named constructor or __proto__ is an ordinary column in prepare, predict and drift', async (t) => {
  const csv = RAW.replace('Gender,Age,', 'constructor,__proto__,');
  const dir = project(t, csv);
  for (const stage of ['prepare', 'train']) {
    const r = await runMlops([stage], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
  }
  const pr = await runMlops(['predict', '--input', 'data/in.csv'], { cwd: dir });
  assert.equal(pr.code, 0, pr.stderr);
  const dr = await runMlops(['drift', '--reference', 'data/split/train.csv', '--current', 'data/split/test.csv', '--json'], { cwd: dir });
  assert.equal(dr.code, 0, dr.stderr);
  const report = JSON.parse(dr.stdout);
  assert.deepEqual(Object.keys(report.columns).slice(0, 2), ['constructor', '__proto__']);
  assert.equal(report.columns.constructor.type, 'categorical');
  assert.equal(Object.getOwnPropertyDescriptor(report.columns, '__proto__')!.value.type, 'numeric');
});

test('predict: the default model, an id column carried through, probabilities without float noise', async (t) => {
  const lines = RAW.trim().split('\n');
  const dir = project(t, RAW, PARAMS.replace('n_estimators: [8]', 'n_estimators: [10]'));
  const none = await runMlops(['predict', '--input', 'data/in.csv'], { cwd: dir });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^error: models\/model\.json: file not found\n$/);
  for (const stage of ['prepare', 'train']) assert.equal((await runMlops([stage], { cwd: dir })).code, 0);
  writeFiles(dir, { 'new.csv': [`row_id,${lines[0]}`, ...lines.slice(1, 6).map((l, i) => `A-00${i},${l}`)].join('\n') + '\n' });
  const pr = await runMlops(['predict', '--input', 'new.csv', '--id-column', 'row_id'], { cwd: dir });
  assert.equal(pr.code, 0, pr.stderr);
  const out = pr.stdout.trim().split('\n');
  assert.match(out[0]!, /^row_id,prediction,proba_/);
  assert.deepEqual(out.slice(1).map((l) => l.split(',')[0]), ['A-000', 'A-001', 'A-002', 'A-003', 'A-004']);
  // 10 pure trees: every probability is a sum of tenths, printed as k/10 (no 0.30000000000000004)
  for (const line of out.slice(1)) {
    for (const p of line.split(',').slice(2)) assert.match(p, /^(0|1|0\.\d)$/);
  }
  const explicit = await runMlops(['predict', '--model', 'models/model.json', '--input', 'new.csv', '--id-column', 'row_id'], { cwd: join(dir) });
  assert.equal(explicit.stdout, pr.stdout, 'the default is the project model');
  const missing = await runMlops(['predict', '--input', 'new.csv', '--id-column', 'nope'], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^error: new\.csv:1: no id column 'nope' \(columns: row_id, Gender, /);
});

test('predict: more rows than one block come out as each half predicted alone; --output writes the same text whole, a bad cell writes nothing', async (t) => {
  const dir = project(t, RAW);
  for (const stage of ['prepare', 'train']) assert.equal((await runMlops([stage], { cwd: dir })).code, 0);
  const [header, ...rows] = generateObesity(70_000, 9).trim().split('\n');
  const csv = (part: string[]) => [header, ...part].join('\n') + '\n';
  writeFiles(dir, { 'all.csv': csv(rows), 'a.csv': csv(rows.slice(0, 35_000)), 'b.csv': csv(rows.slice(35_000)) });
  const all = await runMlops(['predict', '--input', 'all.csv'], { cwd: dir });
  assert.equal(all.code, 0, all.stderr);
  const a = (await runMlops(['predict', '--input', 'a.csv'], { cwd: dir })).stdout.split('\n');
  const b = (await runMlops(['predict', '--input', 'b.csv'], { cwd: dir })).stdout.split('\n');
  assert.equal(all.stdout, [...a.slice(0, -1), ...b.slice(1)].join('\n'));
  assert.equal(all.stdout.split('\n').length, 70_002);

  const written = await runMlops(['predict', '--input', 'all.csv', '--output', 'out/p.csv'], { cwd: dir });
  assert.equal(written.stdout, 'wrote 70000 predictions to out/p.csv\n');
  assert.equal(read(dir, 'out/p.csv'), all.stdout);
  // A non-numeric cell far past the first block: one located line, exit 2, the old file untouched.
  const bad = rows.slice();
  bad[68_000] = bad[68_000]!.replace(/^(\w+),[^,]+,/, '$1,old,');
  writeFiles(dir, { 'all.csv': csv(bad) });
  const refused = await runMlops(['predict', '--input', 'all.csv', '--output', 'out/p.csv'], { cwd: dir });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^error: all\.csv:68002: 'Age': non-numeric value "old" in numeric column\n$/);
  assert.equal(read(dir, 'out/p.csv'), all.stdout);
  assert.deepEqual(readdirSync(join(dir, 'out')), ['p.csv']);
});
