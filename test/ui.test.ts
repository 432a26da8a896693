import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Project } from '../src/project/project.js';
import { FileStore } from '../src/tracking/file-store.js';
import { startUi, type RunningUi } from '../src/ui/server.js';
import { launchChromium } from './browser.js';
import { MLOPS_BIN, runMlops } from './helpers.js';
import { buildExample } from './example-project.js';

// `mlops ui` in headless Chromium on the default example (two repros: two model versions, grid
// candidates nested under their train runs): every page, a filter, a compare, a rollback and a promote
// with --allow-writes, and hostile names shown as text. One example and one browser for the file.

let dir: string;
let browser: Browser;
let ro: RunningUi;
const HOSTILE_NAME = '<img src=x onerror="window.__xss=1">';
const HOSTILE_PARAM = '</script><script>window.__xss=2</script>';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-ui-test-'));
  await buildExample(dir);
  // Hostile values in an experiment of their own: a run name, a param, a tag, an HTML artifact.
  const store = new FileStore(join(dir, 'mlruns'));
  const experimentId = await store.getOrCreateExperiment('hostile <b>exp</b>');
  const { run_id } = await store.createRun({ experimentId, runName: HOSTILE_NAME, userId: 'me' });
  await store.logParams(run_id, { evil: HOSTILE_PARAM });
  await store.setTags(run_id, { note: '"><iframe src=javascript:window.__xss=4>' });
  await store.logMetrics(run_id, [{ key: 'f1', value: 0.5, step: 0, timestamp: 1 }]);
  writeFileSync(join(dir, 'evil.html'), '<script>window.__xss=5</script>');
  await store.logArtifact(run_id, join(dir, 'evil.html'));
  browser = await launchChromium();
  ro = await startUi({ project: Project.open(dir, { cwd: dir, env: {} }), host: '127.0.0.1', port: 0, allowWrites: false });
  await ro.warmed;
});

after(async () => {
  await ro?.close();
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => void d.accept());
  (page as Page & { errors: string[] }).errors = errors;
  await page.goto(url);
  await page.waitForSelector('main[data-page]');
  return page;
}

/** An element's data-* attributes, typed without the DOM library (the project compiles without it). */
type Dataset = { dataset: Record<string, string | undefined> };
const texts = (page: Page, selector: string) => page.$$eval(selector, (els) => els.map((e) => (e.textContent ?? '').trim()));
const pageErrors = (page: Page) => (page as Page & { errors: string[] }).errors;

test('runs page: parents with their grid candidates folded, a filter with runs list\'s grammar and errors, sort, columns remembered', async () => {
  const page = await open(`${ro.url}/#/runs`);
  const names = await texts(page, 'table.runs tbody tr td.name a');
  assert.equal(names.filter((n) => n.startsWith('train-')).length, 2);
  assert.ok(!names.some((n) => n.startsWith('candidate-')), 'candidates folded under their train run');
  await page.click('table.runs tbody tr:has(button.fold) button.fold');
  assert.equal((await texts(page, 'table.runs tr.child td.name a')).filter((n) => n.startsWith('candidate-')).length, 2);

  const loaded = async () => page.$eval('main > div', (el) => (el as unknown as Dataset).dataset.loaded);
  const search = async (filter: string) => {
    const before = await loaded();
    await page.fill('input[name=filter]', filter);
    await page.press('input[name=filter]', 'Enter');
    await page.waitForFunction(`document.querySelector('main > div').dataset.loaded !== ${JSON.stringify(before)}`);
  };
  await search("tags.`mlops.stage` = 'evaluate' and metrics.accuracy > 0");
  assert.deepEqual((await texts(page, 'table.runs tbody td.name a')).map((n) => n.replace(/-\d+-\d+$/, '')), ['evaluate', 'evaluate']);
  // The same message as `mlops runs list --filter`.
  await search('metrics.accuracy >> 1');
  const cli = await runMlops(['runs', 'list', '--filter', 'metrics.accuracy >> 1'], { cwd: dir });
  assert.equal(cli.code, 2);
  assert.equal(`error: ${await page.textContent('[role=alert]')}\n`, cli.stderr);

  await search('');
  await page.click('th[data-column="attributes.run_name"]');
  await page.waitForSelector('th.sorted[data-column="attributes.run_name"]');
  const sorted = await texts(page, 'table.runs tbody tr:not(.child) td.name a');
  assert.deepEqual(sorted, [...sorted].sort().reverse(), 'run_name DESC');

  // A column chosen is kept for this experiment across reloads.
  await page.click('details.columns summary');
  await page.check('details.columns input[value="params.seed"]');
  await page.reload();
  await page.waitForSelector('main[data-page]');
  assert.ok(await page.$('th[data-column="params.seed"]'), 'column remembered');

  // Grouped by a param: mean ± std per group.
  await page.selectOption('select[aria-label="group by"]', 'params.max_depth');
  await page.waitForSelector('table.groups tbody tr');
  const groups = await texts(page, 'table.groups tbody tr td:first-child');
  assert.ok(groups.includes('8') && groups.includes('12'), `groups ${groups}`);
  assert.deepEqual(pageErrors(page), []);
  await page.close();
});

test('run page: params, metric steps charted, artifacts previewed, parent link; compare of the candidates', async () => {
  const runs = await (await fetch(`${ro.url}/api/runs?flat=1&limit=100`)).json() as { runs: { run_id: string; run_name: string; parent: string | null; stage: string | null }[] };
  const evaluate = runs.runs.find((r) => r.stage === 'evaluate')!;
  const page = await open(`${ro.url}/#/run/${evaluate.run_id}`);
  assert.match((await page.textContent('h1'))!, /^evaluate-/);
  assert.match((await page.textContent('main'))!, /stage: evaluate/);
  const artifacts = await texts(page, 'ul.artifacts a');
  const csv = artifacts.find((a) => a.endsWith('.csv'));
  const json = artifacts.find((a) => a.endsWith('.json'));
  assert.ok(csv && json, `artifacts ${artifacts}`);
  await page.click(`ul.artifacts a[data-path="${csv}"]`);
  await page.waitForSelector('.artifact-preview table tbody tr');
  await page.click(`ul.artifacts a[data-path="${json}"]`);
  await page.waitForSelector('.artifact-preview pre.preview-json');

  const candidates = runs.runs.filter((r) => r.parent !== null).slice(0, 2);
  const child = await open(`${ro.url}/#/run/${candidates[0]!.run_id}`);
  assert.equal(await child.textContent(`a[href="#/run/${candidates[0]!.parent}"]`), runs.runs.find((r) => r.run_id === candidates[0]!.parent)!.run_name);
  // Fold scores logged as steps: one step chart per such metric, drawn by Vega as SVG.
  assert.ok((await child.$$('.grid2 .card svg.marks')).length >= 1, 'metric step charts drawn');

  const compare = await open(`${ro.url}/#/compare?ids=${candidates.map((c) => c.run_id).join(',')}`);
  await compare.waitForSelector('.parallel svg.marks');
  await compare.waitForSelector('.scatter svg.marks');
  await compare.waitForSelector('.overlay svg.marks');
  const differing = await texts(compare, 'table.compare-params tr.diff td:first-child');
  assert.ok(differing.includes('max_depth'), `differing params ${differing}`);
  assert.ok(!differing.includes('n_estimators'), 'equal params are not highlighted');
  for (const p of [page, child, compare]) assert.deepEqual(pageErrors(p), []);
  await Promise.all([page.close(), child.close(), compare.close()]);
});

test('experiments, pipeline and models pages on the default example', async () => {
  const exp = await open(`${ro.url}/#/experiments`);
  const kinds = await exp.$$eval('table.exp tbody tr', (rows) => rows.map((r) => (r as unknown as Dataset).dataset.kind));
  assert.equal(kinds[0], 'workspace');
  assert.ok(kinds.includes('baseline'));

  const pipeline = await open(`${ro.url}/#/pipeline`);
  const stages = await pipeline.$$eval('svg.dag g[data-stage]', (gs) => gs.map((g) => `${(g as unknown as Dataset).dataset.stage}:${(g as unknown as Dataset).dataset.status}`));
  assert.deepEqual(stages.sort(), ['drift', 'evaluate', 'prepare', 'promote', 'register', 'train'].map((s) => `${s}:up to date`));
  assert.ok((await pipeline.$$('.plots-workspace figure.plot svg.marks')).length >= 3, 'confusion, importance, CV charts drawn');
  // The plots at the first commit, beside the workspace's (the example commits its files before any repro).
  await pipeline.fill('input[name=revision]', 'HEAD');
  await pipeline.click('text=Show');
  await pipeline.waitForSelector('.plots-revision h2');
  assert.equal(await pipeline.textContent('.plots-revision h2'), 'HEAD');
  assert.match((await pipeline.textContent('.plots-revision'))!, /skipped plot 'reports\/confusion_matrix.csv': reports\/confusion_matrix.csv not found/);
  await pipeline.fill('input[name=revision]', 'no-such-rev');
  await pipeline.click('text=Show');
  await pipeline.waitForFunction(`document.querySelector('.toolbar .error').textContent !== ''`);

  const models = await open(`${ro.url}/#/models/obesity_classifier`);
  assert.deepEqual(await texts(models, 'table tbody tr[data-version] td:first-child'), ['v2', 'v1']);
  assert.match((await models.textContent('main'))!, /read-only/);
  assert.equal(await models.$('button.promote'), null, 'no write buttons when read-only');
  for (const p of [exp, pipeline, models]) assert.deepEqual(pageErrors(p), []);
  await Promise.all([exp.close(), pipeline.close(), models.close()]);
});

test('hostile run names, params, tags and artifacts are shown as text, never run', async () => {
  const experiments = await (await fetch(`${ro.url}/api/experiments`)).json() as { experiments: { experiment_id: string; name: string }[] };
  const hostile = experiments.experiments.find((e) => e.name.startsWith('hostile'))!;
  const page = await open(`${ro.url}/#/runs?experiment=${hostile.experiment_id}`);
  await page.waitForSelector('table.runs tbody td.name a');
  assert.equal(await page.textContent('table.runs tbody td.name a'), HOSTILE_NAME);
  await page.click('table.runs tbody td.name a');
  await page.waitForSelector('main[data-page=run]');
  assert.equal(await page.textContent('h1 >> nth=0').then((t) => t!.startsWith(HOSTILE_NAME)), true);
  assert.ok((await page.textContent('main'))!.includes(HOSTILE_PARAM));
  await page.click('ul.artifacts a[data-path="evil.html"]');
  await page.waitForSelector('.artifact-preview pre.preview-text');
  assert.equal(await page.textContent('.artifact-preview pre'), '<script>window.__xss=5</script>');
  // Opened directly, the artifact is plain text in a sandbox.
  const direct = await page.context().request.get(`${ro.url}/api/runs/${page.url().split('/').pop()}/artifact?path=evil.html`);
  assert.match(direct.headers()['content-type']!, /^text\/plain/);
  assert.match(direct.headers()['content-security-policy']!, /sandbox/);
  assert.equal(await page.evaluate('window.__xss'), undefined);
  assert.deepEqual(pageErrors(page), []);
  // No path outside the run's artifacts is served.
  for (const path of ['../meta.yaml', '../../../../.git/config', '/etc/passwd']) {
    const r = await page.context().request.get(`${ro.url}/api/runs/${page.url().split('/').pop()}/artifact?path=${encodeURIComponent(path)}`);
    assert.equal(r.status(), 404, path);
  }
  await page.close();
});

test('writes: refused read-only, without the CSRF token or from another Host; rollback and promote with --allow-writes', async (t) => {
  const refused = await fetch(`${ro.url}/api/models/obesity_classifier/rollback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(refused.status, 403);
  const rw = await startUi({ project: Project.open(dir, { cwd: dir, env: {} }), host: '127.0.0.1', port: 0, allowWrites: true });
  t.after(() => rw.close());
  const noToken = await fetch(`${rw.url}/api/models/obesity_classifier/rollback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(noToken.status, 403);
  assert.match(((await noToken.json()) as { error: string }).error, /CSRF/);
  // fetch will not send another Host: a plain request does, as a DNS-rebinding page's would.
  const rebound = await new Promise<number>((resolve, reject) => {
    request(`${rw.url}/api/info`, { headers: { host: 'evil.example' } }, (res) => (res.resume(), resolve(res.statusCode!))).on('error', reject).end();
  });
  assert.equal(rebound, 421, 'a DNS-rebinding Host is refused');

  const champion = async () => JSON.parse((await runMlops(['models', 'show', 'obesity_classifier', '--json'], { cwd: dir })).stdout).aliases.champion;
  assert.equal(await champion(), 2);
  const page = await open(`${rw.url}/#/models/obesity_classifier`);
  await page.click('button.rollback[data-alias=champion]');
  await page.waitForFunction(`/rolled back/.test(document.querySelector('.outcome')?.textContent ?? '')`);
  assert.equal(await page.textContent('.outcome'), 'rolled back obesity_classifier champion: v2 -> v1');
  assert.equal(await champion(), 1);

  await page.click('button.promote[data-version="2"]');
  await page.waitForSelector('dialog.confirm[open]');
  const gates = await texts(page, 'dialog.confirm table tbody tr td:first-child');
  assert.deepEqual(gates, ['accuracy >= 0.3']);
  assert.equal(await page.textContent('dialog.confirm table tbody tr td:last-child'), 'pass');
  await page.click('button.confirm-promote');
  await page.waitForFunction(`/promoted/.test(document.querySelector('.outcome')?.textContent ?? '')`);
  assert.equal(await page.textContent('.outcome'), 'promoted obesity_classifier champion: v1 -> v2');
  assert.equal(await champion(), 2);
  const events = JSON.parse((await runMlops(['models', 'history', 'obesity_classifier', '--json'], { cwd: dir })).stdout).events;
  assert.deepEqual(events.slice(-2).map((e: { action: string; from: number; to: number }) => [e.action, e.from, e.to]), [['rollback', 2, 1], ['promote', 1, 2]]);
  assert.ok(events.at(-1).gates, 'the promotion records its gate report');
  assert.deepEqual(pageErrors(page), []);
  await page.close();
});

test('mlops ui: binds 127.0.0.1 by default, serves the app and its vega builds, stops on SIGTERM with 0', async () => {
  const child = spawn(process.execPath, [MLOPS_BIN, 'ui', '--port', '0'], { cwd: dir, env: { ...process.env, CI: 'true', MLOPS_ROOT: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /mlops ui at (http:\/\/127\.0\.0\.1:\d+) \(read-only\)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(stderr)));
  });
  const html = await (await fetch(url)).text();
  assert.doesNotMatch(html, /\b(src|href)=["']?(https?:)?\/\//, 'nothing loaded from elsewhere');
  for (const file of ['vega.min.js', 'vega-lite.min.js', 'vega-embed.min.js']) assert.equal((await fetch(`${url}/vendor/${file}`)).status, 200);
  assert.equal((await fetch(`${url}/vendor/..%2f..%2fpackage.json`)).status, 404);
  const code = await new Promise<number | null>((resolve) => {
    child.on('exit', resolve);
    child.kill('SIGTERM');
  });
  assert.equal(code, 0, stderr);
});
