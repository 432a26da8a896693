import { fill, h, serverInfo } from './dom.js';
import { runsPage } from './runs.js';
import { runPage } from './run.js';
import { comparePage } from './compare.js';
import { experimentsPage } from './experiments.js';
import { pipelinePage } from './pipeline.js';
import { modelsPage, modelPage } from './models.js';
import { monitorPage } from './monitor.js';

// Hash routes: #/runs?experiment=ID, #/run/ID, #/compare?ids=a,b, #/experiments, #/pipeline,
// #/models, #/models/NAME, #/monitor. Each page renders into <main> and marks it `data-page` when done.

const routes = [
  [/^\/runs$/, runsPage],
  [/^\/run\/([^/]+)$/, runPage],
  [/^\/compare$/, comparePage],
  [/^\/experiments$/, experimentsPage],
  [/^\/pipeline$/, pipelinePage],
  [/^\/models$/, modelsPage],
  [/^\/models\/([^/]+)$/, modelPage],
  [/^\/monitor$/, monitorPage],
];

let generation = 0;

async function route() {
  const hash = location.hash.slice(1) || '/runs';
  const [path, search = ''] = hash.split('?');
  const params = new URLSearchParams(search);
  const main = document.getElementById('main');
  const mine = ++generation;
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', path.startsWith(`/${a.dataset.nav}`) || (a.dataset.nav === 'runs' && (path.startsWith('/run') || path === '/compare')));
  const found = routes.map(([re, page]) => [re.exec(path), page]).find(([m]) => m);
  main.removeAttribute('data-page');
  if (!found) return fill(main, h('p', { class: 'error' }, `no page ${path}`));
  const [match, page] = found;
  const view = h('div');
  fill(main, view);
  try {
    await page(view, { params, arg: match[1] === undefined ? undefined : decodeURIComponent(match[1]), current: () => mine === generation });
  } catch (error) {
    fill(view, h('p', { class: 'error' }, error.message));
  }
  if (mine === generation) main.dataset.page = path.split('/')[1];
}

window.addEventListener('hashchange', route);
serverInfo().then((info) => {
  fill(document.getElementById('where'), `${info.project} · runs in ${info.tracking} · ${info.allow_writes ? 'writes allowed' : 'read-only'}`);
}).catch(() => undefined);
route();
