import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { VENDOR_FILES, vendorFile } from '../src/plots/vendor.js';
import type { Browser } from 'playwright-core';
import { Project } from '../src/project/project.js';
import { TRACKING_STORES } from '../src/project/stores.js';
import { openMlflowDatabase } from '../src/sql/open.js';
import { startUi } from '../src/ui/server.js';
import { launchChromium } from '../test/browser.js';
import { populate, populateSql } from './tracking.js';

// `mlops ui`'s runs page on an experiment of 10,000 runs, in the folder store and in SQLite, in headless
// Chromium: the time from navigation to the first rows drawn, and from a click on a column header
// (sort) or Enter in the filter box to the table redrawn; and the page's JavaScript, gzipped. Targets:
// < 1 s, < 300 ms, < 1 MB. A redraw is timed twice: as the driver sees it (playwright's click or key
// press, which waits for the element to be actionable, until the page marks the new rows loaded), and
// inside the page, from the input event's timestamp to the first frame after the rows are in the DOM
// (what a user waits for). The search API alone is timed too, wall and the server's CPU.

const APP_DIR = fileURLToPath(new URL('../../src/ui/app/', import.meta.url));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function gzippedJs(): number {
  const files = [...VENDOR_FILES.map(vendorFile), ...readdirSync(APP_DIR).filter((f) => f.endsWith('.js')).map((f) => join(APP_DIR, f))];
  return files.reduce((total, f) => total + gzipSync(readFileSync(f), { level: 9 }).length, 0);
}

const ORDERS = ['metrics.f1_macro', 'params.max_depth', 'attributes.run_name', 'metrics.accuracy', 'attributes.start_time'];
const FILTERS = ["metrics.f1_macro > 0.9 and params.max_depth = '10'", 'metrics.accuracy < 0.5', "params.n_estimators = '200'", "attributes.run_name LIKE 'run-1%'", ''];
const fmt = (values: number[]) => `median of ${values.length} ${median(values).toFixed(0)} ms (max ${Math.max(...values).toFixed(0)})`;

/** The folder store, written through FileStore as runs are logged. */
async function fileProject(root: string): Promise<Project> {
  await populate(root);
  return Project.open(root, { cwd: root, env: {} });
}

/** SQLite, written in bulk in the rows SqlTrackingStore writes (10,000 runs through the API take long). */
async function sqliteProject(root: string): Promise<Project> {
  const uri = 'sqlite:///mlflow.db';
  const store = await TRACKING_STORES.open(uri, root, { artifactRoot: join(root, 'mlartifacts') });
  const experimentId = await store.getOrCreateExperiment('Default');
  await store.close?.();
  const db = await openMlflowDatabase(uri, { root });
  try {
    await populateSql(db, Number(experimentId), join(root, 'mlartifacts'), 10_000);
  } finally {
    await db.close();
  }
  return Project.open(root, { cwd: root, env: { uri } });
}

async function runsPage(browser: Browser, name: string, make: (root: string) => Promise<Project>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), `mlops-bench-ui-${name}-`));
  try {
    let t0 = performance.now();
    const project = await make(root);
    console.log(`${name}: created 10000 runs in ${((performance.now() - t0) / 1000).toFixed(1)} s; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
    t0 = performance.now();
    const ui = await startUi({ project, host: '127.0.0.1', port: 0, allowWrites: false });
    await ui.warmed;
    console.log(`  server started and read the experiment's runs in ${(performance.now() - t0).toFixed(0)} ms (once, at start; the page answers from memory after)`);
    try {
      // The server's part alone: one sorted, filtered page of the search API, each order new.
      const api = [];
      const cpu = [];
      for (const order of ORDERS) {
        const start = performance.now();
        const cpuStart = process.cpuUsage(); // the server runs in this process: its CPU, whatever the machine's load
        const res = await fetch(`${ui.url}/api/runs?limit=50&order_by=${encodeURIComponent(`${order} DESC`)}&filter=${encodeURIComponent('metrics.f1_macro > 0.2')}`);
        if (!res.ok) throw new Error(`api: ${res.status} ${await res.text()}`);
        await res.json();
        api.push(performance.now() - start);
        const used = process.cpuUsage(cpuStart);
        cpu.push((used.user + used.system) / 1000);
      }
      console.log(`  the search API alone (a filter and a new order over 10,000 runs, a page of 50 as JSON): ${fmt(api)} wall, median ${median(cpu).toFixed(0)} ms CPU`);
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const firstRows = async () => {
        await page.goto('about:blank');
        const start = performance.now();
        await page.goto(`${ui.url}/#/runs`);
        await page.waitForSelector('table.runs tbody tr[data-run-id]');
        return performance.now() - start;
      };
      const cold = await firstRows();
      const warm = [];
      for (let i = 0; i < 5; i++) warm.push(await firstRows());
      const rows = await page.$$eval('table.runs tbody tr[data-run-id]', (r) => r.length);
      console.log(`  runs page, time to first rows (${rows} of 10000 drawn): first load ${cold.toFixed(0)} ms, then ${fmt(warm)} over new loads; target < 1000 ms`);

      const redraw = async (action: () => Promise<void>) => {
        const before = await page.$eval('main > div', (el) => (el as unknown as { dataset: { loaded?: string } }).dataset.loaded);
        // In the page: the input event's time, and the first frame after the rows are marked loaded.
        await page.evaluate(`(() => {
          window.__input = undefined; window.__painted = undefined;
          for (const type of ['click', 'keydown']) document.addEventListener(type, (e) => { window.__input ??= e.timeStamp; }, { capture: true, once: true });
          new MutationObserver((_, observer) => { observer.disconnect(); requestAnimationFrame(() => setTimeout(() => { window.__painted = performance.now(); })); })
            .observe(document.querySelector('main > div'), { attributes: true, attributeFilter: ['data-loaded'] });
        })()`);
        const start = performance.now();
        await action();
        await page.waitForFunction(`document.querySelector('main > div').dataset.loaded !== ${JSON.stringify(before)}`);
        const driver = performance.now() - start;
        await page.waitForFunction('window.__painted !== undefined');
        return { driver, inPage: (await page.evaluate('window.__painted - window.__input')) as number };
      };
      const sorts = [];
      for (const column of ORDERS) sorts.push(await redraw(() => page.click(`th[data-column="${column}"]`)));
      const filters = [];
      for (const filter of FILTERS) {
        await page.fill('input[name=filter]', filter);
        filters.push(await redraw(() => page.press('input[name=filter]', 'Enter')));
      }
      for (const [what, times] of [['sort by a column', sorts], ['filter', filters]] as const) {
        console.log(`  ${what}: input to painted rows in the page ${fmt(times.map((t) => t.inPage))}; as the driver sees it ${fmt(times.map((t) => t.driver))}; target < 300 ms`);
      }
      await page.close();
    } finally {
      await ui.close();
    }
    console.log(`  load average at the end: ${loadavg()[0]!.toFixed(1)}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const browser = await launchChromium();
  try {
    await runsPage(browser, 'folder store', fileProject);
    await runsPage(browser, 'SQLite', sqliteProject);
    console.log(`the app's JavaScript (vega, vega-lite, vega-embed and the page's modules), gzipped: ${(gzippedJs() / 1024).toFixed(0)} KiB; target < 1024 KiB`);
  } finally {
    await browser.close();
  }
}
