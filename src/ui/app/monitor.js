import { api, chart, fill, fmt, h, table, time } from './dom.js';

// Monitoring: drift per window of the served model (as `mlops monitor drift` computes it), realized
// metrics from the tracked `monitor-outcomes` runs, and the live server's traffic with --serve-url.
// #/monitor?model=models:/NAME@ALIAS&since=7d&window=1d

const driftCell = (w) => (w.status === 'too_small' ? 'too small' : w.drift ? 'yes' : 'no');

function windowsTable(check) {
  const rows = [];
  for (const w of check.windows) {
    const detail = h('tr', { class: 'columns', hidden: true }, h('td', { colspan: 6 },
      Object.keys(w.columns).length === 0 ? h('span', { class: 'muted' }, `not tested: fewer than ${check.settings.min_rows} rows`) :
        table(['column', 'test', 'statistic', 'p-value', 'distance', 'psi', 'drift'], Object.entries(w.columns).map(([name, c]) => [name, c.test, c.statistic, c.p_value, c.distance, c.psi, c.drift ? 'yes' : 'no']))));
    const toggle = h('button', { class: 'fold', 'aria-expanded': 'false', onclick: () => {
      detail.hidden = !detail.hidden;
      toggle.setAttribute('aria-expanded', String(!detail.hidden));
    } }, '▸');
    rows.push(h('tr', { class: `window ${w.status}`, 'data-drift': driftCell(w) },
      h('td', {}, toggle), h('td', {}, time(Date.parse(w.from))), h('td', {}, time(Date.parse(w.to))),
      h('td', { class: 'num' }, fmt(w.rows)), h('td', { class: 'drift' }, driftCell(w)),
      h('td', { class: 'num' }, w.share === null ? '-' : `${fmt(w.share * 100)} %`)), detail);
  }
  return h('table', { class: 'windows' },
    h('thead', {}, h('tr', {}, ['', 'from', 'to', 'rows', 'drift', 'drifted columns'].map((c) => h('th', {}, c)))), h('tbody', {}, rows));
}

export async function monitorPage(view, { params }) {
  const q = new URLSearchParams();
  for (const key of ['model', 'since', 'window']) if (params.get(key)) q.set(key, params.get(key));
  const data = await api(`/api/monitor?${q}`);
  const model = h('input', { type: 'text', name: 'model', value: data.model, size: 40, 'aria-label': 'model' });
  const since = h('input', { type: 'text', name: 'since', value: data.since, size: 5, 'aria-label': 'since' });
  const win = h('input', { type: 'text', name: 'window', value: data.window, size: 5, 'aria-label': 'window' });
  const go = () => { location.hash = `#/monitor?${new URLSearchParams({ model: model.value, since: since.value, window: win.value })}`; };
  const driftChart = h('div', { class: 'chart drift-share' });
  const outcomeChart = h('div', { class: 'chart outcomes' });
  const check = data.drift;
  const points = data.outcomes.flatMap((r) => r.points.filter((p) => p.from).map((p) => ({ ...p, run: r.run_name })));
  fill(view,
    h('h1', {}, 'Monitoring'),
    h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); go(); } }, 'model', model, 'since', since, 'window', win, h('button', { type: 'submit' }, 'Show')),
    h('h2', {}, 'Drift per window'),
    check ? [
      h('p', { class: 'summary' }, `${check.model.uri} (versions ${check.model.versions.join(', ')}): drift in ${check.drifted_windows} of ${check.windows.length} windows, ${check.too_small_windows} too small (fewer than ${check.settings.min_rows} rows)`),
      driftChart, windowsTable(check),
    ] : h('p', { class: 'muted empty' }, data.empty),
    h('h2', {}, 'Realized performance'),
    points.length ? [outcomeChart, table(['run', 'window from', 'metric', 'value'], points.map((p) => [p.run, time(Date.parse(p.from)), p.metric, p.value]))] :
      h('p', { class: 'muted' }, 'no outcomes yet: `mlops monitor outcomes --labels FILE` records realized metrics as a tracked run'),
    h('h2', {}, 'Live server'),
    data.live === null ? h('p', { class: 'muted' }, 'start `mlops ui --serve-url http://127.0.0.1:PORT` to see a running server\'s traffic') :
      data.live.error ? h('p', { class: 'error' }, data.live.error) :
        table(['server', 'requests', 'requests/s', 'mean latency (ms)'], [[data.live.url, data.live.requests_total, data.live.requests_per_second, data.live.mean_latency_ms ?? '-']], () => ({ class: 'live' })));
  if (check) {
    const values = check.windows.map((w) => ({ from: w.from, share: w.share, status: driftCell(w) }));
    await chart(driftChart, {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 600, height: 180, data: { values },
      mark: { type: 'line', point: true },
      encoding: { x: { field: 'from', type: 'temporal', title: 'window' }, y: { field: 'share', type: 'quantitative', title: 'share of drifted columns', scale: { domain: [0, 1] } }, tooltip: [{ field: 'from', type: 'temporal' }, { field: 'share' }, { field: 'status' }] },
    });
  }
  if (points.length) {
    await chart(outcomeChart, {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 600, height: 180, data: { values: points },
      mark: { type: 'line', point: true },
      // A date format: with one window, vega's ticks fall on milliseconds and would read `346`.
      encoding: { x: { field: 'from', type: 'temporal', title: 'window from', axis: { format: '%b %d %H:%M', tickCount: 5 } }, y: { field: 'value', type: 'quantitative' }, color: { field: 'metric' }, detail: { field: 'run' } },
    });
  }
}
