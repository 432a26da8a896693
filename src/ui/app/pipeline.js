import { api, chart, fill, fmt, h } from './dom.js';

// The pipeline: the stage graph (each stage coloured by its status, why it changed), the metrics files
// at the workspace and recent commits side by side, and the plots.

const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attrs, text) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
};

/** Stages in columns by depth (longest path from a source), edges as lines between the boxes. */
function graph(stages, edges) {
  const depth = new Map();
  for (const s of stages) depth.set(s.name, Math.max(0, ...edges.filter((e) => e.to === s.name).map((e) => (depth.get(e.from) ?? 0) + 1)));
  const columns = new Map();
  for (const s of stages) columns.set(depth.get(s.name), [...(columns.get(depth.get(s.name)) ?? []), s]);
  const [W, H, GX, GY] = [170, 44, 60, 18];
  const pos = new Map();
  for (const [d, list] of columns) list.forEach((s, i) => pos.set(s.name, { x: 10 + d * (W + GX), y: 10 + i * (H + GY) }));
  const width = 20 + columns.size * (W + GX);
  const height = 20 + Math.max(...[...columns.values()].map((l) => l.length)) * (H + GY);
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'dag', role: 'img' });
  for (const e of edges) {
    const [a, b] = [pos.get(e.from), pos.get(e.to)];
    if (a && b) root.append(svg('line', { x1: a.x + W, y1: a.y + H / 2, x2: b.x, y2: b.y + H / 2, stroke: '#888', 'marker-end': 'url(#arrow)' }));
  }
  const defs = svg('defs', {});
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' });
  marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#888' }));
  defs.append(marker);
  root.prepend(defs);
  for (const s of stages) {
    const { x, y } = pos.get(s.name);
    const g = svg('g', { 'data-stage': s.name, 'data-status': s.status });
    g.append(svg('title', {}, `${s.name}: ${s.status}${s.reasons.length ? ` (${s.reasons.join('; ')})` : ''}`));
    g.append(svg('rect', { x, y, width: W, height: H, rx: 6, class: `stage stage-${s.status.replaceAll(' ', '-')}` }));
    g.append(svg('text', { x: x + 8, y: y + 18, 'font-weight': 600 }, s.name.length > 24 ? `${s.name.slice(0, 23)}…` : s.name));
    g.append(svg('text', { x: x + 8, y: y + 34, fill: '#555' }, s.status));
    root.append(g);
  }
  return root;
}

export async function pipelinePage(view) {
  const [data, plots] = await Promise.all([api('/api/pipeline'), api('/api/plots')]);
  const rows = [];
  for (const rev of data.metrics) for (const [file, values] of Object.entries(rev.values)) for (const key of Object.keys(values)) if (!rows.some((r) => r[0] === file && r[1] === key)) rows.push([file, key]);
  const plotGrid = h('div', { class: 'plots-workspace' });
  const revGrid = h('div', { class: 'plots-revision' });
  const rev = h('input', { type: 'text', name: 'revision', placeholder: 'HEAD~1, a branch, a tag', size: 16 });
  const revError = h('span', { class: 'error' });
  // `dvc plots diff`: the same plots at a git revision, beside the workspace's.
  const showRevision = async () => {
    fill(revError);
    fill(revGrid);
    if (!rev.value.trim()) return;
    try {
      const other = await api(`/api/plots?rev=${encodeURIComponent(rev.value.trim())}`);
      await drawAll(revGrid, other, rev.value.trim());
    } catch (e) {
      fill(revError, e.message);
    }
  };
  fill(view, h('h1', {}, 'Pipeline'),
    data.stages.length ? h('div', { class: 'card scroll' }, graph(data.stages, data.edges)) : h('p', { class: 'muted' }, 'no pipeline file'),
    h('h2', {}, 'Stages'),
    h('table', { class: 'stages' }, h('thead', {}, h('tr', {}, ['stage', 'status', 'why', 'command'].map((c) => h('th', {}, c)))),
      h('tbody', {}, data.stages.map((s) => h('tr', { 'data-stage': s.name }, h('td', {}, s.name), h('td', {}, s.status), h('td', {}, s.reasons.join('; ') || '-'), h('td', {}, h('code', {}, s.cmd)))))),
    h('h2', {}, 'Metrics by revision'),
    data.metrics.length ? h('div', { class: 'scroll' }, h('table', { class: 'revisions' },
      h('thead', {}, h('tr', {}, h('th', {}, 'file'), h('th', {}, 'metric'), data.metrics.map((r) => h('th', { title: r.title ?? '' }, r.label)))),
      h('tbody', {}, rows.map(([file, key]) => h('tr', {}, h('td', {}, file), h('td', {}, key), data.metrics.map((r) => h('td', { class: 'num' }, fmt(r.values[file]?.[key])))))))) : h('p', { class: 'muted' }, 'no metrics files'),
    h('h2', {}, 'Plots'),
    h('div', { class: 'toolbar' }, 'beside the workspace, at revision', rev, h('button', { onclick: showRevision }, 'Show'), revError),
    h('div', { class: 'side-by-side' }, plotGrid, revGrid));
  await drawAll(plotGrid, plots, 'workspace');
}

async function drawAll(target, plots, label) {
  fill(target, h('h2', {}, label),
    plots.skipped.length ? h('ul', { class: 'muted' }, plots.skipped.map((s) => h('li', {}, `skipped ${s.skipped}: ${s.reason}`))) : null);
  await Promise.all(plots.charts.map((c) => {
    const el = h('div', { class: 'card' });
    target.append(h('figure', { class: 'plot', 'data-title': c.title }, el, h('figcaption', { class: 'muted' }, c.source)));
    return chart(el, c.spec);
  }));
}
