import { api, duration, fill, fmt, h, runLink, time } from './dom.js';

// The runs table: one page at a time from /api/runs (filtered, sorted and paged on the server), a
// column chooser remembered per experiment, nested runs folded under their parent, grouping by a
// param or tag with mean ± std.

// Fifty rows: two screens of the table. A sort or a filter redraws the page, and what the browser
// spends on that (style, layout, paint) grows with the rows drawn, far more than the server's part.
const PAGE = 50;
const FIXED = [
  { id: 'attributes.run_name', label: 'Name' },
  { id: 'tags.mlops.stage', label: 'Stage', get: (r) => r.stage },
  { id: 'attributes.status', label: 'Status' },
  { id: 'attributes.start_time', label: 'Start (UTC)' },
  { id: 'duration', label: 'Duration', sortable: false },
];

const columnsKey = (experimentId) => `mlops.columns.${experimentId}`;

function savedColumns(experimentId) {
  try {
    const value = JSON.parse(localStorage.getItem(columnsKey(experimentId)) ?? 'null');
    return Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** `metrics.f1` -> the row's value. */
function valueOf(row, column) {
  const dot = column.indexOf('.');
  const [kind, key] = [column.slice(0, dot), column.slice(dot + 1)];
  if (kind === 'metrics') return row.metrics[key];
  if (kind === 'params') return row.params[key];
  if (kind === 'tags') return row.tags[key];
  return undefined;
}

// Keys with odd characters are quoted with backticks, as the filter grammar reads them.
const orderKey = (column) => {
  const dot = column.indexOf('.');
  const key = column.slice(dot + 1);
  return /^[\w/.:-]+$/.test(key) ? column : `${column.slice(0, dot)}.\`${key}\``;
};

export async function runsPage(view, { params }) {
  const { experiments } = await api('/api/experiments');
  const state = {
    experiment: params.get('experiment') ?? '',
    filter: params.get('filter') ?? '',
    order: params.get('order') ?? '',
    groupBy: params.get('group') ?? '',
    offset: 0,
    selected: new Set(),
    open: new Set(),
    seq: 0,
  };
  const picker = h('select', { 'aria-label': 'experiment', onchange: () => { state.experiment = picker.value; state.offset = 0; load(); } },
    experiments.map((e) => h('option', { value: e.experiment_id }, `${e.name} (${e.experiment_id})`)));
  const filter = h('input', { type: 'text', name: 'filter', placeholder: "metrics.f1_macro > 0.9 and params.max_depth = '10'", value: state.filter,
    onkeydown: (e) => { if (e.key === 'Enter') { state.filter = filter.value; state.offset = 0; load(); } } });
  const error = h('div', { class: 'error', role: 'alert' });
  const groupSel = h('select', { 'aria-label': 'group by', onchange: () => { state.groupBy = groupSel.value; load(); } });
  const chooser = h('details', { class: 'columns' }, h('summary', {}, 'Columns'), h('div'));
  const compare = h('button', { disabled: true, onclick: () => { location.hash = `#/compare?ids=${[...state.selected].join(',')}`; } }, 'Compare');
  const pager = h('span', { class: 'pager' });
  const groups = h('div', { class: 'groups' });
  const body = h('div', { class: 'scroll' });
  const refresh = h('button', { onclick: () => load(true), title: 'read the runs again from the store' }, 'Refresh');
  fill(view,
    h('div', { class: 'toolbar' }, 'Experiment', picker, filter, h('button', { onclick: () => { state.filter = filter.value; state.offset = 0; load(); } }, 'Search'), 'Group by', groupSel, chooser, compare, refresh, pager),
    error, groups, body);

  let page;
  let columns = [];

  async function load(refreshing = false) {
    const seq = ++state.seq;
    const q = new URLSearchParams({ offset: String(state.offset), limit: String(PAGE) });
    if (state.experiment) q.set('experiment', state.experiment);
    if (state.filter) q.set('filter', state.filter);
    if (state.order) q.set('order_by', state.order);
    if (state.groupBy) q.set('group_by', state.groupBy);
    if (refreshing) q.set('refresh', '1');
    try {
      const result = await api(`/api/runs?${q}`);
      if (seq !== state.seq) return;
      page = result;
      fill(error);
      if (!state.experiment) state.experiment = page.experiment.experiment_id;
      picker.value = page.experiment.experiment_id;
      columns = savedColumns(page.experiment.experiment_id) ?? [...page.columns.metrics.slice(0, 5).map((k) => `metrics.${k}`), ...page.columns.params.slice(0, 3).map((k) => `params.${k}`)];
      render();
    } catch (e) {
      if (seq !== state.seq) return;
      fill(error, e.message);
      view.dataset.loaded = String(seq);
    }
  }

  let shownKeys;
  function render() {
    // The chooser and the group-by list only when the experiment's keys changed, not at every sort.
    const keys = JSON.stringify([page.experiment.experiment_id, page.columns]);
    if (keys !== shownKeys) {
      shownKeys = keys;
      renderChooser();
      const current = groupSel.value || state.groupBy;
      fill(groupSel, h('option', { value: '' }, '(none)'),
        [...page.columns.params.map((k) => `params.${k}`), ...page.columns.tags.filter((k) => !k.startsWith('mlflow.') && !k.startsWith('mlops.')).map((k) => `tags.${k}`)]
          .map((c) => h('option', { value: c }, c)));
      groupSel.value = current;
    }
    const last = Math.min(page.offset + PAGE, page.total);
    fill(pager,
      h('button', { disabled: page.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - PAGE); load(); } }, '‹ Prev'),
      ` ${page.total ? page.offset + 1 : 0}–${last} of ${page.total} (${page.matched} runs, read ${new Date(page.read_at).toLocaleTimeString()}) `,
      h('button', { disabled: last >= page.total, onclick: () => { state.offset += PAGE; load(); } }, 'Next ›'));
    fill(groups, page.groups ? groupTable(page.groups) : null);
    fill(body, runsTable());
    if (page.skipped.length) error.append(`${page.skipped.length} run(s) could not be read: ${page.skipped.map((s) => `${s.path}: ${s.reason}`).join('; ')}`);
    view.dataset.loaded = String(state.seq);
  }

  function renderChooser() {
    const panel = chooser.querySelector('div');
    const all = [...page.columns.metrics.map((k) => `metrics.${k}`), ...page.columns.params.map((k) => `params.${k}`), ...page.columns.tags.map((k) => `tags.${k}`)];
    fill(panel, all.map((c) => h('label', { style: 'display:block' },
      h('input', { type: 'checkbox', value: c, checked: columns.includes(c), onchange: (e) => {
        columns = e.target.checked ? [...columns, c] : columns.filter((x) => x !== c);
        localStorage.setItem(columnsKey(page.experiment.experiment_id), JSON.stringify(columns));
        fill(body, runsTable());
      } }), ' ', c)));
  }

  function sortBy(id) {
    const [current, direction] = state.order.split(/\s+(?=ASC$|DESC$)/);
    const key = orderKey(id);
    state.order = current === key && direction !== 'ASC' ? `${key} ASC` : `${key} DESC`;
    state.offset = 0;
    load();
  }

  function header() {
    const th = (id, label, sortable = true) => {
      const sorted = state.order.startsWith(`${orderKey(id)} `);
      return h('th', { class: [sortable ? 'sortable' : '', sorted ? 'sorted' : ''].join(' '), 'data-column': id, onclick: sortable ? () => sortBy(id) : undefined },
        label, sorted ? (state.order.endsWith('ASC') ? ' ▲' : ' ▼') : '');
    };
    return h('tr', {}, h('th', {}, ''), FIXED.map((c) => th(c.id, c.label, c.sortable !== false)), columns.map((c) => th(c, c)));
  }

  function row(r, child) {
    const kids = r.children?.length ?? 0;
    const open = state.open.has(r.run_id);
    return h('tr', { class: child ? 'child' : '', 'data-run-id': r.run_id },
      h('td', {}, h('input', { type: 'checkbox', 'aria-label': `select ${r.run_name}`, checked: state.selected.has(r.run_id), onchange: (e) => {
        if (e.target.checked) state.selected.add(r.run_id);
        else state.selected.delete(r.run_id);
        compare.disabled = state.selected.size < 2 || state.selected.size > 200;
        compare.textContent = `Compare (${state.selected.size})`;
      } })),
      h('td', { class: 'name' },
        kids ? h('button', { class: 'fold', 'aria-expanded': String(open), onclick: () => { open ? state.open.delete(r.run_id) : state.open.add(r.run_id); fill(body, runsTable()); } }, `${open ? '▾' : '▸'} ${kids}`) : null,
        ' ', runLink(r.run_id, r.run_name)),
      h('td', {}, r.stage ?? '-'),
      h('td', { class: `status-${r.status}` }, r.status),
      h('td', {}, time(r.start_time)),
      h('td', { class: 'num' }, duration(r.duration)),
      columns.map((c) => {
        const v = valueOf(r, c);
        return h('td', typeof v === 'number' ? { class: 'num' } : {}, fmt(v));
      }));
  }

  function runsTable() {
    const rows = page.runs.flatMap((r) => [row(r, false), ...(state.open.has(r.run_id) ? r.children.map((c) => row(c, true)) : [])]);
    return h('table', { class: 'runs' }, h('thead', {}, header()), h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 6 + columns.length }, 'no runs'))));
  }

  function groupTable(list) {
    const metrics = columns.filter((c) => c.startsWith('metrics.')).map((c) => c.slice(8));
    return h('div', { class: 'card' }, h('h2', {}, `Grouped by ${state.groupBy} (mean ± std)`),
      h('table', { class: 'groups' },
        h('thead', {}, h('tr', {}, h('th', {}, state.groupBy), h('th', {}, 'runs'), metrics.map((m) => h('th', {}, m)))),
        h('tbody', {}, list.map((g) => h('tr', {}, h('td', {}, g.value === '' ? '(none)' : g.value), h('td', { class: 'num' }, String(g.count)),
          metrics.map((m) => h('td', { class: 'num' }, g.metrics[m] ? `${fmt(g.metrics[m].mean)} ± ${fmt(g.metrics[m].std)}` : '-')))))));
  }

  await load();
}
