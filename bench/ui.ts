import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { VENDOR_FILES, vendorFile } from '../src/plots/vendor.js';
import { Project } from '../src/project/project.js';
import { startUi } from '../src/ui/server.js';
import { launchChromium } from '../test/browser.js';
import { populate } from './tracking.js';

// `mlops ui`'s runs page on an experiment of 10,000 runs (file store), in headless Chromium: the time
// from navigation to the first rows drawn, and from a click on a column header (sort) or Enter in the
// filter box to the table redrawn; and the page's JavaScript, gzipped. Targets: < 1 s, < 300 ms, < 1 MB.

const APP_DIR = fileURLToPath(new URL('../../src/ui/app/', import.meta.url));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function gzippedJs(): number {
  const files = [...VENDOR_FILES.map(vendorFile), ...readdirSync(APP_DIR).filter((f) => f.endsWith('.js')).map((f) => join(APP_DIR, f))];
  return files.reduce((total, f) => total + gzipSync(readFileSync(f), { level: 9 }).length, 0);
}

export async function run(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'mlops-bench-ui-'));
  const browser = await launchChromium();
  try {
    let t0 = performance.now();
    await populate(root);
    console.log(`  load average: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
    console.log(`created 10000 runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    t0 = performance.now();
    const ui = await startUi({ project: Project.open(root, { cwd: root, env: {} }), host: '127.0.0.1', port: 0, allowWrites: false });
    await ui.warmed;
    console.log(`server started and read the experiment's runs in ${(performance.now() - t0).toFixed(0)} ms (once, at start; the page answers from memory after)`);
    try {
      // The server's part alone: one sorted, filtered page of the search API.
      const api = [];
      const cpu = [];
      for (const order of ['metrics.f1_macro DESC', 'params.max_depth', 'attributes.run_name DESC', 'metrics.accuracy', 'attributes.start_time']) {
        const start = performance.now();
        const cpuStart = process.cpuUsage(); // the server runs in this process: its CPU, whatever the machine's load
        const res = await fetch(`${ui.url}/api/runs?limit=100&order_by=${encodeURIComponent(order)}&filter=${encodeURIComponent('metrics.f1_macro > 0.2')}`);
        if (!res.ok) throw new Error(`api: ${res.status} ${await res.text()}`);
        await res.json();
        api.push(performance.now() - start);
        const used = process.cpuUsage(cpuStart);
        cpu.push((used.user + used.system) / 1000);
      }
      console.log(`  the search API alone (filter + first sort by a key of 10,000 runs, a page of 100 as JSON): median of 5 ${median(api).toFixed(0)} ms wall, ${median(cpu).toFixed(0)} ms CPU`);
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const firstRows = async () => {
        const start = performance.now();
        await page.goto(`${ui.url}/#/runs`);
        await page.waitForSelector('table.runs tbody tr[data-run-id]');
        return performance.now() - start;
      };
      const cold = await firstRows();
      const warm = [];
      for (let i = 0; i < 5; i++) warm.push(await firstRows());
      const rows = await page.$$eval('table.runs tbody tr[data-run-id]', (r) => r.length);
      console.log(`runs page, time to first rows (${rows} of 10000 drawn): first load ${cold.toFixed(0)} ms, then median of 5 reloads ${median(warm).toFixed(0)} ms; target < 1000 ms`);

      const redraw = async (action: () => Promise<void>) => {
        const before = await page.$eval('main > div', (el) => (el as unknown as { dataset: { loaded?: string } }).dataset.loaded);
        const start = performance.now();
        await action();
        await page.waitForFunction(`document.querySelector('main > div').dataset.loaded !== ${JSON.stringify(before)}`);
        return performance.now() - start;
      };
      const sorts = [];
      for (const column of ['metrics.f1_macro', 'params.max_depth', 'attributes.run_name', 'metrics.accuracy', 'attributes.start_time']) {
        sorts.push(await redraw(() => page.click(`th[data-column="${column}"]`)));
      }
      const filters = [];
      for (const filter of ["metrics.f1_macro > 0.9 and params.max_depth = '10'", 'metrics.accuracy < 0.5', "params.n_estimators = '200'", "attributes.run_name LIKE 'run-1%'", '']) {
        await page.fill('input[name=filter]', filter);
        filters.push(await redraw(() => page.press('input[name=filter]', 'Enter')));
      }
      console.log(`  sort by a column: median of 5 ${median(sorts).toFixed(0)} ms (max ${Math.max(...sorts).toFixed(0)}); target < 300 ms`);
      console.log(`  filter: median of 5 ${median(filters).toFixed(0)} ms (max ${Math.max(...filters).toFixed(0)}); target < 300 ms`);
      await page.close();
    } finally {
      await ui.close();
    }
    console.log(`  load average at the end: ${loadavg()[0]!.toFixed(1)}`);
    console.log(`the app's JavaScript (vega, vega-lite, vega-embed and the page's modules), gzipped: ${(gzippedJs() / 1024).toFixed(0)} KiB; target < 1024 KiB`);
  } finally {
    await browser.close();
    rmSync(root, { recursive: true, force: true });
  }
}
