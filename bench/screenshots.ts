import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Project } from '../src/project/project.js';
import { startUi } from '../src/ui/server.js';
import { launchChromium } from '../test/browser.js';
import { buildExample } from '../test/example-project.js';

// `npm run screenshots`: the README's pictures of `mlops ui`, from the default example built afresh in
// a temp folder (two repros), one PNG per page in docs/.

const DOCS = resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'docs');

interface RunRow { run_id: string; stage: string | null; parent: string | null }

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-screenshots-'));
  const browser = await launchChromium();
  try {
    await buildExample(dir);
    const ui = await startUi({ project: Project.open(dir, { cwd: dir, env: {} }), host: '127.0.0.1', port: 0, allowWrites: true });
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
      ];
      mkdirSync(DOCS, { recursive: true });
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      for (const [name, hash] of pages) {
        await page.goto(`${ui.url}/${hash}`);
        await page.waitForSelector('main[data-page]');
        if (name === 'runs') await page.click('table.runs tbody tr:has(button.fold) button.fold');
        if (name === 'run' && candidates.length) await page.click('ul.artifacts a >> nth=0');
        await page.waitForTimeout(300); // let vega finish its transitions-free redraws
        const file = join(DOCS, `ui-${name}.png`);
        await page.screenshot({ path: file, fullPage: name !== 'experiments' });
        console.log(file);
      }
    } finally {
      await ui.close();
    }
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
