import { api, chart, duration, fill, fmt, h, runLink, table, time } from './dom.js';

// One run: info, params, metrics with step charts, tags, artifacts with previews, parent and children.

/** A small CSV reader for previews: quoted fields, doubled quotes, CRLF. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field), rows.push(row), (row = []), (field = '');
    } else field += c;
  }
  if (field !== '' || row.length) row.push(field), rows.push(row);
  return rows;
}

const PREVIEW_ROWS = 200;

async function preview(target, runId, artifact) {
  const url = `/api/runs/${encodeURIComponent(runId)}/artifact?path=${encodeURIComponent(artifact.path)}`;
  fill(target, h('h2', {}, artifact.path));
  if (artifact.kind === 'image') return target.append(h('img', { src: url, alt: artifact.path, style: 'max-width:100%' }));
  if (artifact.kind === 'binary') return target.append(h('p', { class: 'muted' }, `${artifact.size} bytes; no preview for this kind of file`), h('a', { href: url, download: artifact.path.split('/').pop() }, 'download'));
  const res = await fetch(url);
  const text = await res.text();
  const cut = res.headers.get('x-artifact-truncated') === '1' ? h('p', { class: 'muted' }, 'first 1 MiB shown') : null;
  if (artifact.kind === 'json') {
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { /* shown as it is */ }
    return target.append(h('pre', { class: 'preview-json' }, shown), cut);
  }
  if (artifact.kind === 'csv') {
    const [header = [], ...rows] = parseCsv(text);
    return target.append(h('div', { class: 'scroll' }, table(header, rows.slice(0, PREVIEW_ROWS))), rows.length > PREVIEW_ROWS ? h('p', { class: 'muted' }, `first ${PREVIEW_ROWS} of ${rows.length} rows`) : null, cut);
  }
  target.append(h('pre', { class: 'preview-text' }, text), cut);
}

export async function runPage(view, { arg }) {
  const data = await api(`/api/runs/${encodeURIComponent(arg)}`);
  const { run } = data;
  const { info } = run;
  const steps = Object.entries(data.metric_history).filter(([, h]) => h.length > 1);
  const charts = h('div', { class: 'grid2' });
  const artifactView = h('div', { class: 'card artifact-preview' });
  fill(view,
    h('h1', {}, info.run_name || info.run_id, ' ', h('span', { class: `status-${info.status}` }, info.status)),
    h('p', {}, `run ${info.run_id} · experiment ${info.experiment_id} · user ${info.user_id} · started ${time(info.start_time)} · `,
      `duration ${duration(info.end_time === null ? null : info.end_time - info.start_time)}`),
    h('p', {},
      'stage: ', h('span', { class: 'stage-name' }, data.stage ?? '-'), ' · git commit: ', h('code', {}, data.git_commit ?? '-'),
      data.parent ? [' · parent: ', runLink(data.parent.run_id, data.parent.run_name)] : null),
    h('div', { class: 'grid2' },
      h('div', { class: 'card' }, h('h2', {}, 'Params'), table(['key', 'value'], Object.keys(run.params).sort().map((k) => [k, run.params[k]]))),
      h('div', { class: 'card' }, h('h2', {}, 'Metrics'), table(['key', 'latest', 'min', 'max', 'steps'], Object.entries(data.metric_history).map(([k, hist]) => {
        const values = hist.map((m) => m.value);
        return [k, run.metrics[k], Math.min(...values), Math.max(...values), new Set(hist.map((m) => m.step)).size];
      })))),
    steps.length ? h('h2', {}, 'Metric steps') : null,
    charts,
    data.children.length ? [h('h2', {}, `Nested runs (${data.children.length})`), childTable(data.children)] : null,
    h('h2', {}, 'Artifacts'),
    data.artifacts === null ? h('p', { class: 'muted' }, `artifacts at ${info.artifact_uri} are not on this machine`)
      : data.artifacts.length === 0 ? h('p', { class: 'muted' }, 'no artifacts')
      : h('ul', { class: 'artifacts' }, data.artifacts.map((a) => h('li', {}, h('a', { href: '#', 'data-path': a.path, onclick: (e) => { e.preventDefault(); preview(artifactView, info.run_id, a); } }, a.path), ` (${a.size} bytes)`))),
    artifactView,
    h('h2', {}, 'Tags'),
    table(['key', 'value'], Object.keys(run.tags).sort().map((k) => [k, run.tags[k]])));
  await Promise.all(steps.map(([key, hist]) => {
    const el = h('div', { class: 'card' });
    charts.append(el);
    return chart(el, {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: key, width: 380, height: 180,
      data: { values: hist }, mark: { type: 'line', point: true },
      encoding: { x: { field: 'step', type: 'quantitative', title: 'step' }, y: { field: 'value', type: 'quantitative', title: key, scale: { zero: false } }, tooltip: [{ field: 'step' }, { field: 'value' }] },
    });
  }));
}

function childTable(children) {
  const keys = [...new Set(children.flatMap((c) => Object.keys(c.metrics)))].sort().slice(0, 6);
  return table(['run', 'status', ...keys], children.map((c) => [runLink(c.run_id, c.run_name), c.status, ...keys.map((k) => c.metrics[k] ?? '-')]));
}
