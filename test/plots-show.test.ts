import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser.js';
import { PROJECT_ROOT, runMlops, tempDir, writeFiles } from './helpers.js';

// `plots show` writes a page of Vega-Lite charts drawn by vega-embed (SVG) from the vega builds copied
// beside it. Each test opens the page in headless Chromium, offline from its folder, and reads what
// Vega drew: every mark carries an aria-label naming its fields and values.

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser?.close());

interface Figure {
  title: string;
  /** `roledescription :: aria-label` of every mark drawn. */
  marks: string[];
  /** Tick labels of the axes, as drawn. */
  ticks: string[];
  /** Texts whose box falls outside their chart's SVG (a label cut off). */
  outside: string[];
  /** The legend's top edge and the plot area's bottom edge (px), when the chart has a legend. */
  legendTop: number | null;
  plotBottom: number | null;
}

/** The page as Chromium drew it: the body's data-rendered count, the notes, and each figure. */
async function rendered(htmlFile: string): Promise<{ count: number; errors: string[]; notes: string; figures: Figure[] }> {
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => void (r.url().startsWith('file:') || requests.push(r.url())));
  try {
    await page.goto(pathToFileURL(htmlFile).href);
    await page.waitForSelector('body[data-rendered]', { timeout: 60_000 });
    assert.deepEqual(requests, [], 'nothing fetched from the network');
    return await page.evaluate(`(() => {
      const figures = [...document.querySelectorAll('figure')].map((f) => {
        const svg = f.querySelector('svg');
        const box = svg ? svg.getBoundingClientRect() : null;
        const marks = [...f.querySelectorAll('[aria-roledescription]')].filter((e) => !['axis', 'legend', 'title'].includes(e.getAttribute('aria-roledescription')) && e.getAttribute('aria-label'))
          .map((e) => e.getAttribute('aria-roledescription') + ' :: ' + e.getAttribute('aria-label'));
        const ticks = [...f.querySelectorAll('g[aria-roledescription=axis] .role-axis-label text')].map((t) => t.textContent);
        const outside = box ? [...svg.querySelectorAll('text')].filter((t) => {
          const r = t.getBoundingClientRect();
          return r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5);
        }).map((t) => t.textContent) : [];
        const legend = f.querySelector('g[aria-roledescription=legend]');
        const plot = f.querySelector('.mark-group.role-scope .background, g.mark-group.role-frame path.background');
        return { title: f.querySelector('h2').textContent, marks, ticks, outside,
          legendTop: legend ? legend.getBoundingClientRect().top : null, plotBottom: plot ? plot.getBoundingClientRect().bottom : null };
      });
      return { count: Number(document.body.dataset.rendered), errors: [...document.querySelectorAll('[data-error]')].map((e) => e.dataset.error),
        notes: document.querySelector('.notes') ? document.querySelector('.notes').textContent : '', figures };
    })()`);
  } finally {
    await page.close();
  }
}

const figure = (page: { figures: Figure[] }, title: string) => {
  const found = page.figures.find((f) => f.title === title);
  assert.ok(found, `no chart titled ${title} (charts: ${page.figures.map((f) => f.title).join(' | ')})`);
  return found;
};
const marksOf = (f: Figure, role: string) => f.marks.filter((m) => m.startsWith(`${role} :: `)).map((m) => m.slice(role.length + 4));

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
  for (const file of ['vega.min.js', 'vega-lite.min.js', 'vega-embed.min.js']) assert.ok(existsSync(join(dir, 'site', file)), `${file} beside the page`);

  const drawn = await rendered(page);
  assert.equal(drawn.count, 7);
  assert.deepEqual(drawn.errors, []);
  assert.match(drawn.notes, /skipped plot 'reports\/not_written_yet.csv'/);
  for (const f of drawn.figures) assert.deepEqual(f.outside, [], `${f.title}: no text outside the chart`);

  // The confusion template counts the samples per (actual, predicted) cell.
  const cells = marksOf(figure(drawn, 'Confusion matrix'), 'rect mark');
  const counts = cells.map((m) => Number(/count: (\d+)/.exec(m)![1]));
  assert.equal(counts.reduce((x, y) => x + y), 350, 'every test sample counted once');
  assert.ok(cells.some((m) => m.startsWith('predicted: Normal_Weight; actual: Insufficient_Weight;')), 'off-diagonal cell');

  const cv = figure(drawn, `Cross-validation score of ${CANDIDATES.length} grid candidates`);
  assert.equal(marksOf(cv, 'bar').length, CANDIDATES.length);
  assert.equal(marksOf(cv, 'rule mark').length, CANDIDATES.length, 'an error bar per candidate');
  assert.ok(marksOf(cv, 'bar').some((m) => m.includes('candidate: max_depth=20, max_features=log2, n_estimators=200; group: best')), 'candidates named in full by the params that vary');

  const importance = figure(drawn, 'Feature importances');
  assert.equal(marksOf(importance, 'bar').length, features.length);
  assert.ok(marksOf(importance, 'bar').includes('importance_mean: 0.1; feature: SMOKE; rev: workspace'), 'bar_horizontal: names from y, values from x');
  assert.equal(drawn.figures.filter((f) => ['Confusion matrix', 'Feature importances'].includes(f.title)).length, 2, 'built-in charts not drawn twice');

  const runs = marksOf(figure(drawn, "f1_macro across runs (experiment 'Default')"), 'point');
  assert.deepEqual(runs.map((m) => /run: (.*)$/.exec(m)![1]), ['first (aaaaaaaa)', 'second (bbbbbbbb)', 'third (cccccccc)'], 'nested and unreadable runs left out');
  assert.match(runs[2]!, /^run \(oldest first\): 3; f1_macro: 0.9;/, 'the latest step of each run');

  assert.equal(marksOf(figure(drawn, 'ROC curve'), 'line mark').length, 1);
  assert.equal(marksOf(figure(drawn, 'Errors per class'), 'bar').length, labels.length);
  const loss = marksOf(figure(drawn, 'Train and test loss'), 'line mark');
  assert.deepEqual([...new Set(loss.map((m) => /rev: ([^;]*)/.exec(m)![1]))], ['reports/train.csv: loss', 'reports/test.csv: loss'], 'a line per file');
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
  const drawn = await rendered(page);
  assert.equal(drawn.count, 2);
  const bars = marksOf(figure(drawn, 'Feature importances'), 'bar');
  assert.deepEqual(bars.map((m) => /feature: (\w+)/.exec(m)![1]), ['tail', 'ears'], 'largest first');
  const cells = marksOf(figure(drawn, 'Confusion matrix'), 'rect mark').map((m) => /^predicted: (\w+); actual: (\w+); count: (\d+)$/.exec(m)!.slice(1).join(' '));
  // `predicted actual count`: the file's rows are the actual classes, its columns the predicted ones; empty cells are not drawn.
  assert.deepEqual(cells.sort(), ['cat cat 5', 'cat dog 2', 'dog cat 1', 'dog dog 7', 'fox dog 1', 'fox fox 9'], 'the count matrix, cell by cell');
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
  const drawn = await rendered(join(dir, 'mlops_plots', 'index.html'));
  for (const f of drawn.figures) assert.deepEqual(f.outside, [], `${f.title}: no text outside the chart`);

  // Vega's ticks: round values, no 6.9e-18 for 0 (its minus sign is U+2212).
  const ticks = figure(drawn, 'Importances').ticks.filter((text) => /^[−-]?[\d.]+$/.test(text!)).map((t) => t!.replace('−', '-'));
  assert.ok(ticks.length >= 4 && ticks.includes('0.00') && ticks.every((t) => /^-?0\.\d\d$/.test(t)), `ticks ${ticks}`);
  const steps = ticks.slice(1).map((t, i) => Math.round((Number(t) - Number(ticks[i])) * 1000));
  assert.equal(new Set(steps).size, 1, `evenly spaced ticks ${ticks}`);

  const runs = figure(drawn, "f1_macro across runs (experiment 'Default')");
  const series = [...new Set(marksOf(runs, 'line mark').map((m) => /rev: ([^;]*)/.exec(m)![1]))];
  assert.deepEqual(series, ['evaluate', 'exp (data/obesity.csv)', 'exp (data/wine.csv)'], 'one series per stage and data set');
  assert.ok(runs.legendTop! > runs.plotBottom!, `the legend (top ${runs.legendTop}) lies below the plot (bottom ${runs.plotBottom})`);

  // All evaluate scores are 0.5: a narrow band around it, not an axis from -0.5 to 2.
  writeFiles(dir, {
    'only-eval/0/meta.yaml': "experiment_id: '0'\nname: Default\nlifecycle_stage: active\n",
    ...Object.fromEntries(Object.entries(tagged('a'.repeat(32), 'eval-1', 1_700_000_000_000, 0.5, {})).map(([k, v]) => [k.replace(/^mlruns\//, 'only-eval/'), v])),
    ...Object.fromEntries(Object.entries(tagged('b'.repeat(32), 'eval-2', 1_700_000_100_000, 0.5, {})).map(([k, v]) => [k.replace(/^mlruns\//, 'only-eval/'), v])),
  });
  assert.equal((await runMlops(['plots', 'show', '-o', 'flat'], { cwd: dir, env: { MLOPS_TRACKING_DIR: join(dir, 'only-eval') } })).code, 0);
  const flat = (await rendered(join(dir, 'flat', 'index.html'))).figures.find((f) => f.title.startsWith('f1_macro across runs'))!;
  const numbers = flat.ticks.map((t) => Number(t!.replace('−', '-')));
  const [yTicks, xTicks] = [numbers.filter((v) => v < 1), numbers.filter((v) => v >= 1)];
  assert.ok(yTicks.length >= 3 && Math.min(...yTicks) >= 0.4 && Math.max(...yTicks) <= 0.6, `y ticks ${yTicks}`);
  assert.deepEqual(xTicks, [1, 2], 'runs are counted in whole numbers');
});

test('plots show: a custom template in .dvc/plots/ (DVC\'s anchors) draws its plot; the built-in names stay', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, {
    '.dvc/plots/area.json': JSON.stringify({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: { values: '<DVC_METRIC_DATA>' },
      title: '<DVC_METRIC_TITLE>',
      mark: 'area',
      encoding: { x: { field: '<DVC_METRIC_X>', type: 'quantitative', title: '<DVC_METRIC_X_LABEL>' }, y: { field: '<DVC_METRIC_Y>', type: 'quantitative', title: 'loss of <DVC_METRIC_Y>' } },
    }),
    'pipeline.yaml': 'plots:\n  - reports/loss.csv: {x: epoch.n, y: loss, template: area, title: Area of loss}\n',
    'reports/loss.csv': 'epoch.n,loss\n1,0.9\n2,0.5\n3,0.4\n',
  });
  const r = await runMlops(['plots', 'show'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const drawn = await rendered(join(dir, 'mlops_plots', 'index.html'));
  const area = figure(drawn, 'Area of loss');
  // A field named with a dot is read as one column, not a path into an object.
  assert.deepEqual(marksOf(area, 'area mark'), ['epoch.n: 1; loss of loss: 0.9']);
  writeFiles(dir, { 'pipeline.yaml': 'plots:\n  - reports/loss.csv: {template: nope}\n' });
  const bad = await runMlops(['plots', 'show'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /template 'nope' not found \(templates: simple, .*, bar, area\)/, 'custom templates listed after the built-in ones');
});
