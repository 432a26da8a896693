import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateObesity } from '../src/ml/synthetic.js';
import { Project } from '../src/project/project.js';
import { startUi } from '../src/ui/server.js';
import { launchChromium } from '../test/browser.js';
import { buildExample } from '../test/example-project.js';
import { runMlops } from '../test/helpers.js';
import { predictCsv, startServe, stopServe } from '../test/serve-child.js';

// `npm run screenshots`: the README's pictures of `mlops ui`, from the default example built afresh in
// a temp folder (two repros), one PNG per page in docs/. For the Monitoring page, a real `mlops serve`
// of the champion logs a batch of predictions, their labels make a `monitor outcomes` run, and a
// second server stays up for the page's live traffic (as test/ui-monitor.test.ts does).

const DOCS = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'docs');

interface RunRow { run_id: string; stage: string | null; parent: string | null }

/** Predictions logged by a served model and their outcomes; returns a server left running for the live view. */
async function traffic(dir: string) {
  const first = await startServe(dir);
  try {
    const { requestId, labels } = await predictCsv(first.url, generateObesity(400, 42));
    writeFileSync(join(dir, 'labels.csv'), `request_id,y\n${labels.map((y, i) => `${requestId}:${i},${y}`).join('\n')}\n`);
  } finally {
    await stopServe(first.child); // a graceful stop writes the log's last batch
  }
  const outcomes = await runMlops(['monitor', 'outcomes', '--labels', 'labels.csv'], { cwd: dir, env: { MLOPS_ROOT: dir } });
  if (outcomes.code !== 0) throw new Error(`monitor outcomes failed (${outcomes.code}): ${outcomes.stderr}`);
  const live = await startServe(dir);
  for (let i = 0; i < 5; i++) await fetch(`${live.url}/ping`);
  return live;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-screenshots-'));
  const browser = await launchChromium();
  let live: Awaited<ReturnType<typeof traffic>> | undefined;
  try {
    await buildExample(dir);
    live = await traffic(dir);
    const ui = await startUi({ project: Project.open(dir, { cwd: dir, env: {} }), host: '127.0.0.1', port: 0, allowWrites: true, serveUrl: new URL(live.url) });
    try {
      const { runs } = (await (await fetch(`${ui.url}/api/runs?flat=1&limit=200`)).json()) as { runs: RunRow[] };
      const train = runs.find((r) => r.stage === 'train' && r.parent === null)!;
      const candidates = runs.filter((r) => r.parent === train.run_id);
      const pages: [string, string][] = [
        ['runs', '#/runs'],
        ['run', `#/run/${train.run_id}`],
        ['compare', `#/compare?ids=${runs.filter((r) => r.parent !== null).map((r) => r.run_id).join(',')}`],
        ['experiments', '#/experiments'],
        ['pipeline', '#/pipeline'],
        ['models', '#/models/obesity_classifier'],
        ['monitor', '#/monitor'],
      ];
      mkdirSync(DOCS, { recursive: true });
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      for (const [name, hash] of pages) {
        await page.goto(`${ui.url}/${hash}`);
        await page.waitForSelector('main[data-page]');
        if (name === 'runs') await page.click('table.runs tbody tr:has(button.fold) button.fold');
        if (name === 'run' && candidates.length) await page.click('ul.artifacts a >> nth=0');
        if (name === 'monitor') {
          await page.locator('table.windows tr.window').last().locator('button.fold').click(); // the last window's columns
          await page.waitForSelector('.drift-share svg');
          await page.waitForSelector('.outcomes svg');
        }
        await page.waitForTimeout(300); // let vega finish its transitions-free redraws
        const file = join(DOCS, `ui-${name}.png`);
        await page.screenshot({ path: file, fullPage: name !== 'experiments' });
        console.log(file);
      }
    } finally {
      await ui.close();
    }
  } finally {
    if (live) await stopServe(live.child);
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
