import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { PROJECT_ROOT, runMlops, tempDir, writeFiles } from './helpers.js';

/** The page as headless Chromium rendered it (scripts run), from a fresh profile, offline. */
function renderedDom(htmlFile: string): string {
  const profile = mkdtempSync(join(tmpdir(), 'mlops-chromium-'));
  try {
    return execFileSync(
      'chromium',
      [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        `--user-data-dir=${profile}`, '--dump-dom', pathToFileURL(htmlFile).href,
      ],
      { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      assert.fail('chromium is not installed: run `apt-get update && apt-get install -y chromium` (CI installs it)');
    }
    throw error;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

const count = (html: string, re: RegExp) => html.match(re)?.length ?? 0;
/** The SVG of the chart whose figure is titled `title`. */
const figure = (dom: string, title: string) => {
  const start = dom.indexOf(`<h2>${title}`);
  assert.ok(start >= 0, `no chart titled ${title}`);
  return dom.slice(start, dom.indexOf('</figure>', start));
};

/** Every chart's texts, as Chromium laid them out, lie inside its viewBox: no label is cut off. */
function assertTextsInside(dom: string, charts: number): void {
  const svgs = [...dom.matchAll(/<svg [^>]*viewBox="0 0 ([\d.]+) ([\d.]+)"[^>]*data-text-extent="(-?\d+) (-?\d+) (-?\d+) (-?\d+)"/g)];
  assert.equal(svgs.length, charts, 'every chart measured its texts');
  for (const [svg, w, h, x0, y0, x1, y1] of svgs) {
    assert.ok(Number(x0) >= 0 && Number(y0) >= 0 && Number(x1) <= Number(w) && Number(y1) <= Number(h), `text outside the viewBox: ${svg.slice(0, 200)}`);
  }
}

/** The text of every tick label of a chart. */
const tickTexts = (svg: string) => [...svg.matchAll(/class="tick"[^>]*>([^<]*)</g)].map((m) => m[1]!);

// The obesity data's classes; predictions shifted to the next class for every fifth sample.
const CLASSES = ['Insufficient_Weight', 'Normal_Weight', 'Obesity_Type_I', 'Obesity_Type_II', 'Obesity_Type_III', 'Overweight_Level_I', 'Overweight_Level_II'];
const FEATURES = ['Gender', 'Age', 'Height', 'Weight', 'family_history_with_overweight', 'FAVC', 'FCVC', 'NCP', 'CAEC', 'SMOKE'];

function confusionCsv(n: number): string {
  const lines = Array.from({ length: n }, (_, i) => {
    const actual = (i * 3) % CLASSES.length;
    return `${CLASSES[actual]},${CLASSES[i % 5 ? actual : (actual + 1) % CLASSES.length]}`;
  });
  return `actual,predicted\n${lines.join('\n')}\n`;
}

function run(id: string, name: string, start: number, f1: number[], extra: Record<string, string> = {}): Record<string, string> {
  const dir = `mlruns/0/${id}`;
  return {
    [`${dir}/meta.yaml`]: `run_id: ${id}\nrun_uuid: ${id}\nrun_name: ${name}\nexperiment_id: '0'\nlifecycle_stage: active\nstart_time: ${start}\nstatus: 3\nuser_id: me\n`,
    // Several steps: the latest (highest step) value is the one drawn.
    [`${dir}/metrics/f1_macro`]: f1.map((v, step) => `${start + step} ${v} ${step}\n`).join(''),
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [`${dir}/${k}`, v])),
  };
}

// Three params that vary, as in the default example's grid: long candidate names.
const CANDIDATES = [5, 10, 20].flatMap((max_depth) =>
  [50, 200].map((n_estimators) => {
    const max_features = n_estimators === 50 ? 'sqrt' : 'log2';
    const fold_scores = [0, 1, 2, 3, 4].map((f) => 0.8 + max_depth / 200 + n_estimators / 10_000 + f / 500);
    const mean = fold_scores.reduce((a, b) => a + b) / fold_scores.length;
    const std = Math.sqrt(fold_scores.reduce((a, b) => a + (b - mean) ** 2, 0) / fold_scores.length);
    // The field names the train stage writes (scikit-learn's cv_results_ names).
    return { params: { max_depth, max_features, n_estimators }, fold_scores, mean_score: mean, std_score: std, rank: 0, mean_fit_time: 0.4 };
  }),
);

test('plots show: one offline HTML page whose charts render in headless Chromium', async (t) => {
  const dir = tempDir(t);
  const labels = CLASSES;
  const features = FEATURES;
  const best = CANDIDATES.at(-1)!;
  writeFiles(dir, {
    'pipeline.yaml': [
      'stages:',
      '  train:',
      '    cmd: echo ok',
      '    outs:',
      '      - reports/cv_results.json: {cache: false}',
      '  evaluate:',
      '    cmd: echo ok',
      '    plots:',
      // As the built-in evaluate stage declares them: these replace the built-in charts of the same files.
      '      - reports/confusion_matrix.csv: {template: confusion, x: actual, y: predicted, title: Confusion matrix}',
      '      - reports/feature_importance.csv: {template: bar_horizontal, x: importance_mean, y: feature, title: Feature importances}',
      '      - reports/roc.csv: {x: fpr, y: tpr, title: ROC curve, template: linear}',
      '      - reports/errors.json: {template: bar, x: class, y: errors, title: Errors per class}',
      'plots:',
      '  - Train and test loss:',
      '      x: epoch',
      '      y: {reports/train.csv: loss, reports/test.csv: loss}',
      '  - reports/not_written_yet.csv',
      '',
    ].join('\n'),
    'reports/confusion_matrix.csv': confusionCsv(350),
    'reports/feature_importance.csv': `feature,importance_mean,importance_std\n${features.map((f, i) => `${f},${(i + 1) / 100},0.002`).join('\n')}\n`,
    'reports/cv_results.json': JSON.stringify({ best_index: 5, best_params: best.params, best_score: best.mean_score, candidates: CANDIDATES }),
    'reports/roc.csv': 'fpr,tpr\n0,0\n0.1,0.6\n0.3,0.85\n1,1\n',
    'reports/errors.json': JSON.stringify({ rows: labels.map((c, i) => ({ class: c, errors: i + 1 })) }),
    'reports/train.csv': 'epoch,loss\n1,0.9\n2,0.5\n3,0.3\n',
    'reports/test.csv': 'epoch,loss\n1,1.0\n2,0.7\n3,0.6\n',
    'mlruns/0/meta.yaml': "experiment_id: '0'\nname: Default\nlifecycle_stage: active\n",
    ...run('a'.repeat(32), 'first', 1_700_000_000_000, [0.7, 0.81]),
    ...run('b'.repeat(32), 'second', 1_700_000_100_000, [0.84]),
    ...run('c'.repeat(32), 'third', 1_700_000_200_000, [0.8, 0.88, 0.9]),
    // A grid-search child run and a corrupted run are not points of the chart.
    ...run('d'.repeat(32), 'candidate', 1_700_000_150_000, [0.1], { 'tags/mlflow.parentRunId': 'c'.repeat(32) }),
    'mlruns/0/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee/meta.yaml': 'run_id: [unclosed\n',
  });

  const r = await runMlops(['plots', 'show', '-o', 'site'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const page = join(dir, 'site', 'index.html');
  assert.equal(r.stdout, `${page}: 7 chart(s)\n`);
  assert.equal(r.stderr, "note: skipped plot 'reports/not_written_yet.csv': reports/not_written_yet.csv not found\n");
  const html = readFileSync(page, 'utf8');
  assert.doesNotMatch(html, /\b(src|href)=["']?(https?:)?\/\//, 'no external resources');

  const dom = renderedDom(page);
  assert.match(dom, /<body data-rendered="7">/);
  assert.doesNotMatch(dom, /data-error="/);
  assert.match(dom, /skipped plot 'reports\/not_written_yet.csv'/);

  const confusion = figure(dom, 'Confusion matrix');
  assert.equal(count(confusion, /class="cell"/g), labels.length ** 2);
  const counts = [...confusion.matchAll(/class="count[^"]*">(\d+)</g)].map((m) => Number(m[1]));
  assert.equal(counts.reduce((a, b) => a + b), 350, 'every test sample counted once');

  const cv = figure(dom, `Cross-validation score of ${CANDIDATES.length} grid candidates`);
  assert.equal(count(cv, /class="bar"/g), CANDIDATES.length);
  assert.equal(count(cv, /class="err"/g), CANDIDATES.length);
  assert.match(cv, />max_depth=20, max_features=log2, n_estimators=200</, 'candidates named in full by the params that vary');
  assert.doesNotMatch(cv, /…/, 'no candidate name cut short');
  assertTextsInside(dom, 7);

  const importance = figure(dom, 'Feature importances');
  assert.equal(count(importance, /class="bar"/g), features.length);
  assert.match(importance, /<title>SMOKE: 0.1<\/title>/, 'bar_horizontal: names from y, values from x');
  assert.equal(count(dom, /<h2>(Confusion matrix|Feature importances)/g), 2, 'built-in charts not drawn twice');

  const runs = figure(dom, "f1_macro across runs (experiment 'Default')");
  assert.equal(count(runs, /class="point"/g), 3);
  assert.match(runs, /<title>first \(aaaaaaaa\): 1, 0.81<\/title>[\s\S]*second[\s\S]*<title>third \(cccccccc\): 3, 0.9<\/title>/);

  assert.equal(count(figure(dom, 'ROC curve'), /class="line"/g), 1);
  assert.equal(count(figure(dom, 'Errors per class'), /class="bar"/g), labels.length);
  const loss = figure(dom, 'Train and test loss');
  assert.equal(count(loss, /class="line"/g), 2);
  assert.match(loss, /reports\/train.csv: loss[\s\S]*reports\/test.csv: loss/);
});

test('plots show: a count-matrix confusion file, no pipeline file, every other input missing', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'reports/confusion_matrix.csv': ',cat,dog,fox\ncat,5,1,0\ndog,2,7,1\nfox,0,0,9\n',
    'reports/feature_importance.csv': 'feature,importance\nears,0.25\ntail,0.5\n',
  });
  const r = await runMlops(['plots', 'show'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  // Nothing declared the CV report and it is not there: no note about it.
  assert.equal(r.stderr, "note: skipped metric across runs: no experiment named 'Default' in mlruns\n");
  const page = join(dir, 'mlops_plots', 'index.html');
  assert.ok(existsSync(page));
  const dom = renderedDom(page);
  assert.match(dom, /<body data-rendered="2">/);
  assert.match(figure(dom, 'Feature importances'), /<title>tail: 0.5<\/title>[\s\S]*<title>ears: 0.25<\/title>/, 'largest first');
  const counts = [...figure(dom, 'Confusion matrix').matchAll(/class="count[^"]*">(\d+)</g)].map((m) => Number(m[1]));
  assert.deepEqual(counts, [5, 1, 0, 2, 7, 1, 0, 0, 9]);
});

test('plots show: a bad definition or malformed data costs its own chart only, with a note', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    'pipeline.yaml': [
      'plots:',
      '  - reports/b.json: {x: step, y: loss}',
      '  - reports/c.csv: {x: epoch, y: acc}',
      '  - reports/d.csv: {x: epoch, y: loss, template: scatter, title: Loss}',
      '',
    ].join('\n'),
    'reports/b.json': '{"loss": [1, 2',
    'reports/c.csv': 'epoch,loss\n1,0.5\n',
    'reports/d.csv': 'epoch,loss\n1,0.5\n2,0.25\n',
  });
  const r = await runMlops(['plots', 'show'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const notes = r.stderr.split('\n').filter((l) => l.startsWith("note: skipped plot 'reports/"));
  assert.match(notes[0]!, /^note: skipped plot 'reports\/b.json': reports\/b.json(:\d+)?: invalid YAML/);
  assert.equal(notes[1], "note: skipped plot 'reports/c.csv': reports/c.csv has no field 'acc'");
  const html = readFileSync(join(dir, 'mlops_plots', 'index.html'), 'utf8');
  assert.match(html, /<h2>Loss<\/h2>/);
  assert.match(r.stdout, /: 1 chart\(s\)\n$/);
});

test('plots show reads runs where the other tracking commands do: tracking.uri as a file: URI', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'elsewhere');
  const runs = { 'mlruns/0/meta.yaml': "experiment_id: '0'\nname: Default\nlifecycle_stage: active\n", ...run('a'.repeat(32), 'only', 1_700_000_000_000, [0.75]) };
  writeFiles(dir, {
    '.mlops/config': `[tracking]\n    uri = ${pathToFileURL(store).href}\n`,
    ...Object.fromEntries(Object.entries(runs).map(([path, text]) => [path.replace(/^mlruns\//, 'elsewhere/'), text])),
  });
  const r = await runMlops(['plots', 'show'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /skipped metric across runs/);
  assert.equal((await runMlops(['runs', 'list', '--json'], { cwd: dir })).stdout.includes('a'.repeat(32)), true);
  assert.match(readFileSync(join(dir, 'mlops_plots', 'index.html'), 'utf8'), /f1_macro across runs \(experiment 'Default'\)/);
});

test('plots show: an unknown template is an error, as in DVC, and no page is written', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'pipeline.yaml': 'plots:\n  - reports/d.csv: {x: epoch, y: loss}\n  - reports/a.csv: {template: pie}\n', 'reports/a.csv': 'x,y\n1,2\n' });
  const r = await runMlops(['plots', 'show'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    "error: plot 'reports/a.csv': template 'pie' not found (templates: simple, linear, confusion, confusion_normalized, scatter, scatter_jitter, smooth, bar_horizontal, bar_horizontal_sorted, bar)\n",
  );
  assert.equal(existsSync(join(dir, 'mlops_plots')), false);
  // The README lists every template the error names.
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const listed = r.stderr.slice(r.stderr.indexOf('templates: ') + 11, r.stderr.lastIndexOf(')')).split(', ');
  for (const name of listed) assert.ok(readme.includes(`\`${name}\``), `README does not list template ${name}`);
});

test('plots show: round tick labels, a flat series on a narrow axis, the legend clear of the lines, one line per stage and data set', async (t) => {
  const dir = tempDir(t);
  const tagged = (id: string, name: string, start: number, f1: number, tags: Record<string, string>, params: Record<string, string> = {}) =>
    run(id, name, start, [f1], {
      ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`tags/${k}`, v])),
      ...Object.fromEntries(Object.entries(params).map(([k, v]) => [`params/${k}`, v])),
    });
  writeFiles(dir, {
    'pipeline.yaml': 'stages:\n  evaluate:\n    cmd: echo ok\n    plots:\n      - reports/feature_importance.csv: {template: bar_horizontal, x: importance, y: feature, title: Importances}\n',
    // Values from -0.06 to 0.03: ticks at multiples of 0.02, where adding steps up once gave 6.9e-18 for 0.
    'reports/feature_importance.csv': 'feature,importance\nAge,0.03\nHeight,-0.06\n',
    'mlruns/0/meta.yaml': "experiment_id: '0'\nname: Default\nlifecycle_stage: active\n",
    // evaluate runs with the same score throughout (flat), and experiments on two data sets.
    ...tagged('a'.repeat(32), 'eval-1', 1_700_000_000_000, 0.5, { 'mlops.stage': 'evaluate' }),
    ...tagged('b'.repeat(32), 'eval-2', 1_700_000_100_000, 0.5, { 'mlops.stage': 'evaluate' }),
    ...tagged('c'.repeat(32), 'obesity', 1_700_000_200_000, 0.9, { 'mlops.stage': 'exp' }, { 'prepare.input': 'data/obesity.csv' }),
    ...tagged('d'.repeat(32), 'wine', 1_700_000_300_000, 0.6, { 'mlops.stage': 'exp' }, { 'prepare.input': 'data/wine.csv' }),
    ...tagged('e'.repeat(32), 'obesity-2', 1_700_000_400_000, 0.92, { 'mlops.stage': 'exp' }, { 'prepare.input': 'data/obesity.csv' }),
  });
  const r = await runMlops(['plots', 'show'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'no notes: nothing declared is missing');
  const dom = renderedDom(join(dir, 'mlops_plots', 'index.html'));
  assertTextsInside(dom, 2);

  const importance = figure(dom, 'Importances');
  const values = tickTexts(importance).filter((text) => /^-?[\d.e+-]+$/.test(text));
  assert.deepEqual(values, ['-0.06', '-0.04', '-0.02', '0', '0.02', '0.04']);

  const runs = figure(dom, "f1_macro across runs (experiment 'Default')");
  assert.match(runs, /<text[^>]*>evaluate<\/text>[\s\S]*>exp \(data\/obesity.csv\)<[\s\S]*>exp \(data\/wine.csv\)</);
  assert.equal(count(runs, /class="line"/g), 2, 'evaluate and obesity experiments: a line each; the single wine run is a point');

  // All evaluate scores are 0.5: a narrow band around it, not an axis from -0.5 to 2.
  writeFiles(dir, {
    'only-eval/0/meta.yaml': "experiment_id: '0'\nname: Default\nlifecycle_stage: active\n",
    ...Object.fromEntries(Object.entries(tagged('a'.repeat(32), 'eval-1', 1_700_000_000_000, 0.5, {})).map(([k, v]) => [k.replace(/^mlruns\//, 'only-eval/'), v])),
    ...Object.fromEntries(Object.entries(tagged('b'.repeat(32), 'eval-2', 1_700_000_100_000, 0.5, {})).map(([k, v]) => [k.replace(/^mlruns\//, 'only-eval/'), v])),
  });
  assert.equal((await runMlops(['plots', 'show', '-o', 'flat'], { cwd: dir, env: { MLOPS_TRACKING_DIR: join(dir, 'only-eval') } })).code, 0);
  const flatRuns = figure(renderedDom(join(dir, 'flat', 'index.html')), 'f1_macro across runs');
  const ys = tickTexts(flatRuns).map(Number);
  const [yTicks, xTicks] = [ys.filter((v) => v < 1), ys.filter((v) => v >= 1)];
  assert.ok(yTicks.length >= 3 && Math.min(...yTicks) >= 0.4 && Math.max(...yTicks) <= 0.6, `y ticks ${yTicks}`);
  assert.deepEqual(xTicks, [1, 2], 'runs are counted in whole numbers');

  // The colour key lies below every point of every line.
  const pointYs = [...runs.matchAll(/<circle[^>]*cy="([\d.]+)"/g)].map((m) => Number(m[1]));
  const legendYs = [...runs.matchAll(/<rect[^>]*y="([\d.]+)"[^>]*class="legend"/g)].map((m) => Number(m[1]));
  assert.equal(legendYs.length, 3);
  assert.ok(Math.min(...legendYs) > Math.max(...pointYs) + 20, `legend at ${legendYs}, points down to ${Math.max(...pointYs)}`);
});
