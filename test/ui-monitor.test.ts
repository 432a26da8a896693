import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { generateObesity } from '../src/ml/synthetic.js';
import { Project } from '../src/project/project.js';
import { startUi, type RunningUi } from '../src/ui/server.js';
import { launchChromium } from './browser.js';
import { championProject, predictCsv, startServe, stopServe } from './serve-child.js';
import { gitInit, projectCli, smallParams, writeFiles } from './helpers.js';

// The Monitoring page on a project where a real `mlops serve` logged predictions and
// `mlops monitor outcomes` recorded realized metrics: the drift table's windows, a window's columns
// on expand, the chart, the outcomes, the live server's traffic, and the empty states.

const PARAMS = smallParams({ grid: { n_estimators: [10], max_depth: [5] } });
const ROWS = 150;

let dir: string;
let empty: string;
let browser: Browser;
let serve: ChildProcess | undefined;
let ui: RunningUi;

const { ok } = projectCli(() => dir);


before(async () => {
  dir = await championProject('mlops-ui-monitor-', PARAMS, 500);

  // One batch of traffic; its labels make an outcomes run. A graceful stop writes the log's last batch.
  const first = await startServe(dir);
  try {
    const { requestId, labels } = await predictCsv(first.url, generateObesity(ROWS, 42));
    writeFileSync(join(dir, 'labels.csv'), `request_id,y\n${labels.map((y, i) => `${requestId}:${i},${y}`).join('\n')}\n`);
  } finally {
    await stopServe(first.child);
  }
  await ok('monitor', 'outcomes', '--labels', 'labels.csv');

  // A server that stays up for the live view, with a few requests counted in its /metrics (probes:
  // they log no rows, so the drift windows stay what the first server logged).
  const second = await startServe(dir);
  serve = second.child;
  for (let i = 0; i < 3; i++) assert.equal((await fetch(`${second.url}/ping`)).status, 200);

  empty = mkdtempSync(join(tmpdir(), 'mlops-ui-monitor-empty-'));
  writeFiles(empty, { '.mlops/.gitignore': '*\n' });
  gitInit(empty);
  browser = await launchChromium();
  ui = await startUi({ project: Project.open(dir, { cwd: dir, env: {} }), host: '127.0.0.1', port: 0, allowWrites: false, serveUrl: new URL(second.url) });
});

after(async () => {
  await ui?.close();
  await browser?.close();
  if (serve) await stopServe(serve);
  rmSync(dir, { recursive: true, force: true });
  if (empty) rmSync(empty, { recursive: true, force: true });
});

async function open(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  (page as Page & { errors: string[] }).errors = errors;
  await page.goto(url);
  await page.waitForSelector('main[data-page]');
  return page;
}
const texts = (page: Page, selector: string) => page.$$eval(selector, (els) => els.map((e) => (e.textContent ?? '').trim()));

test('monitoring page: drift per window over 7 days by day, columns on expand, the drift chart, outcomes and live traffic', async () => {
  const page = await open(`${ui.url}/#/monitor`);
  assert.equal(await page.getAttribute('main', 'data-page'), 'monitor');
  const drift = await texts(page, 'table.windows tr.window td.drift');
  // --since 7d --window 1d: seven windows; the traffic is in the last, the others are too small.
  assert.deepEqual(drift.slice(0, 6), Array(6).fill('too small'));
  assert.match(drift[6]!, /^(yes|no)$/);
  const rows = await texts(page, 'table.windows tr.window td:nth-child(4)');
  assert.deepEqual(rows, ['0', '0', '0', '0', '0', '0', String(ROWS)]);
  // The same windows as `mlops monitor drift` (the CLI command's numbers).
  const cli = JSON.parse((await ok('monitor', 'drift', '--since', '7d', '--window', '1d', '--json')).stdout);
  assert.equal(cli.windows.at(-1).rows, ROWS);
  assert.equal(drift[6], cli.windows.at(-1).drift ? 'yes' : 'no');

  const last = page.locator('table.windows tr.window').last();
  await last.locator('button.fold').click();
  const columns = await texts(page, 'table.windows tr.columns:not([hidden]) tbody tr td:first-child');
  assert.deepEqual(columns.sort(), Object.keys(cli.windows.at(-1).columns).sort());
  assert.ok(columns.includes('Weight'));

  await page.waitForSelector('.drift-share svg');
  await page.waitForSelector('.outcomes svg');
  const outcomes = await texts(page, 'h2 ~ table tbody tr td:nth-child(3)');
  assert.ok(outcomes.includes('accuracy'), outcomes.join(','));
  const live = await texts(page, 'table tr.live td');
  assert.ok(Number(live[1]) >= 3, `requests counted: ${live.join(' | ')}`);
  assert.deepEqual((page as Page & { errors: string[] }).errors, []);
  await page.close();
});

test('monitoring page: one clear line for no prediction log, an unknown model; a bad --since is a 400', async () => {
  const other = await startUi({ project: Project.open(empty, { cwd: empty, env: {} }), host: '127.0.0.1', port: 0, allowWrites: false });
  try {
    const page = await open(`${other.url}/#/monitor`);
    assert.match((await page.textContent('p.empty'))!, /^no prediction log yet \(\.mlops\/predictions\.db\): serve the model/);
    assert.match((await page.textContent('main'))!, /start `mlops ui --serve-url/);
    await page.close();
  } finally {
    await other.close();
  }
  const hostile = 'models:/<img src=x onerror="window.__xss=1">@champion';
  const page = await open(`${ui.url}/#/monitor?model=${encodeURIComponent(hostile)}`);
  assert.match((await page.textContent('p.empty'))!, /^no registered model named "<img src=x onerror=/);
  assert.equal(await page.evaluate('window.__xss'), undefined);
  assert.equal(await page.$('main img'), null);
  await page.close();
  // The page only reads: showing drift records no run (the CLI check does).
  const driftRuns = async () => JSON.parse((await ok('runs', 'list', '--json')).stdout).filter((r: unknown) => JSON.stringify(r).includes('monitor-drift')).length;
  const before = await driftRuns();
  assert.ok(before >= 1, 'the CLI check of the first test is listed');
  assert.equal((await fetch(`${ui.url}/api/monitor`)).status, 200);
  assert.equal(await driftRuns(), before);
  const bad = await fetch(`${ui.url}/api/monitor?since=soon`);
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /--since: expected a duration/);
});
