import { api, chart, fill, fmt, h, runLink } from './dom.js';

// Compare 2-200 runs: params (differing ones highlighted), metrics, one metric's steps overlaid,
// parallel coordinates over the differing params and the metrics, and a scatter of any two columns.

const numeric = (v) => v !== null && v !== '' && Number.isFinite(Number(v));

export async function comparePage(view, { params }) {
  const ids = (params.get('ids') ?? '').split(',').filter(Boolean);
  const data = await api(`/api/compare?ids=${ids.map(encodeURIComponent).join(',')}`);
  const names = data.runs.map((r) => r.run_name || r.run_id.slice(0, 8));
  const section = (title, rows, prefix) => [h('h2', {}, title), h('div', { class: 'scroll' }, h('table', { class: `compare-${prefix}` },
    h('thead', {}, h('tr', {}, h('th', {}, 'key'), data.runs.map((r, i) => h('th', {}, runLink(r.run_id, names[i]))))),
    h('tbody', {}, rows.map((k) => h('tr', { class: k.differs ? 'diff' : '', 'data-key': k.key }, h('td', {}, k.key), k.values.map((v) => h('td', typeof v === 'number' ? { class: 'num' } : {}, fmt(v)))))))) ];
  const columns = [...data.params.map((k) => `params.${k.key}`), ...data.metrics.map((k) => `metrics.${k.key}`)];
  const value = (run, column) => (column.startsWith('params.') ? run.params[column.slice(7)] : run.metrics[column.slice(8)]);
  const numericColumns = columns.filter((c) => data.runs.every((r) => numeric(value(r, c))));
  const xSel = h('select', { 'aria-label': 'scatter x', onchange: () => scatter() }, columns.map((c) => h('option', { value: c }, c)));
  const ySel = h('select', { 'aria-label': 'scatter y', onchange: () => scatter() }, columns.map((c) => h('option', { value: c }, c)));
  const metricSel = h('select', { 'aria-label': 'overlay metric', onchange: () => overlay() }, data.metrics.map((k) => h('option', { value: k.key }, k.key)));
  const overlayEl = h('div', { class: 'card overlay' });
  const parallelEl = h('div', { class: 'card parallel' });
  const scatterEl = h('div', { class: 'card scatter' });
  fill(view, h('h1', {}, `Comparing ${data.runs.length} runs`),
    section('Params', data.params, 'params'), section('Metrics', data.metrics, 'metrics'),
    h('h2', {}, 'Metric steps'), h('div', { class: 'toolbar' }, 'metric', metricSel), overlayEl,
    h('h2', {}, 'Parallel coordinates'), parallelEl,
    h('h2', {}, 'Scatter'), h('div', { class: 'toolbar' }, 'x', xSel, 'y', ySel), scatterEl);
  const metricCols = columns.filter((c) => c.startsWith('metrics.'));
  xSel.value = columns.find((c) => c.startsWith('params.') && data.params.find((p) => `params.${p.key}` === c)?.differs) ?? columns[0];
  ySel.value = metricCols[0] ?? columns[0];

  async function overlay() {
    if (!metricSel.value) return fill(overlayEl, h('p', { class: 'muted' }, 'no metrics'));
    const { history } = await api(`/api/compare?ids=${ids.map(encodeURIComponent).join(',')}&metric=${encodeURIComponent(metricSel.value)}`);
    const values = data.runs.flatMap((r, i) => (history[r.run_id] ?? []).map((m) => ({ run: `${names[i]} (${r.run_id.slice(0, 8)})`, step: m.step, value: m.value })));
    await chart(overlayEl, {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 640, height: 260, data: { values },
      mark: { type: 'line', point: true },
      encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'value', type: 'quantitative', title: metricSel.value, scale: { zero: false } }, color: { field: 'run', type: 'nominal', legend: data.runs.length <= 20 ? {} : null }, tooltip: [{ field: 'run' }, { field: 'step' }, { field: 'value' }] },
    });
  }

  async function parallel() {
    const dims = numericColumns.filter((c) => c.startsWith('metrics.') || data.params.find((p) => `params.${p.key}` === c)?.differs);
    if (dims.length < 2) return fill(parallelEl, h('p', { class: 'muted' }, 'fewer than two numeric columns differ'));
    // One row per run and column, each column scaled to its own range (done here: column names hold dots).
    const values = dims.flatMap((d) => {
      const column = data.runs.map((r) => Number(value(r, d)));
      const [lo, hi] = [Math.min(...column), Math.max(...column)];
      return data.runs.map((r, i) => ({ index: i, run: `${names[i]} (${r.run_id.slice(0, 8)})`, column: d, value: column[i], scaled: hi === lo ? 0.5 : (column[i] - lo) / (hi - lo) }));
    });
    await chart(parallelEl, {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: Math.max(400, dims.length * 110), height: 260, data: { values },
      mark: { type: 'line', opacity: 0.6 },
      encoding: {
        x: { field: 'column', type: 'nominal', sort: dims, title: null, axis: { labelAngle: -20 } },
        y: { field: 'scaled', type: 'quantitative', title: 'scaled to each column\'s range', axis: null },
        detail: { field: 'index', type: 'nominal' }, color: { field: 'run', type: 'nominal', legend: data.runs.length <= 20 ? {} : null },
        tooltip: [{ field: 'run' }, { field: 'column' }, { field: 'value' }],
      },
    });
  }

  async function scatter() {
    const [x, y] = [xSel.value, ySel.value];
    const values = data.runs.map((r, i) => ({ run: `${names[i]} (${r.run_id.slice(0, 8)})`, x: value(r, x) ?? null, y: value(r, y) ?? null }));
    const type = (c) => (numericColumns.includes(c) ? 'quantitative' : 'nominal');
    await chart(scatterEl, {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 420, height: 300, data: { values },
      transform: [{ calculate: type(x) === 'quantitative' ? 'toNumber(datum.x)' : 'datum.x', as: 'x' }, { calculate: type(y) === 'quantitative' ? 'toNumber(datum.y)' : 'datum.y', as: 'y' }],
      mark: { type: 'point', filled: true, size: 60 },
      encoding: { x: { field: 'x', type: type(x), title: x, scale: { zero: false } }, y: { field: 'y', type: type(y), title: y, scale: { zero: false } }, tooltip: [{ field: 'run' }, { field: 'x', title: x }, { field: 'y', title: y }] },
    });
  }

  await Promise.all([overlay(), parallel(), scatter()]);
}
