import { api, fill, fmt, h, runLink } from './dom.js';

// `exp show`: the workspace, each baseline commit and its experiments, with their state (queued,
// running, success, failed), params and metrics.

export async function experimentsPage(view) {
  const { rows } = await api('/api/exp');
  const params = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort();
  const metrics = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))].sort();
  fill(view, h('h1', {}, 'Experiments'),
    h('div', { class: 'scroll' }, h('table', { class: 'exp' },
      h('thead', {}, h('tr', {}, ['Experiment', 'rev', 'Created', 'State', 'Overrides', ...metrics, ...params].map((c) => h('th', {}, c)))),
      h('tbody', {}, rows.map((r) => h('tr', { class: r.kind, 'data-kind': r.kind },
        h('td', {}, r.kind === 'experiment' ? ['  ', runLink(r.run_id, r.name)] : r.name),
        h('td', {}, r.rev ?? '-'), h('td', {}, r.created ?? '-'), h('td', {}, r.state ?? '-'), h('td', {}, r.overrides || '-'),
        metrics.map((k) => h('td', { class: 'num' }, fmt(r.metrics[k]))),
        params.map((k) => h('td', {}, fmt(r.params[k])))))))));
}
