// Building the page: every value goes in as text (textContent, attribute values), never as HTML, so a
// run name or param holding `<script>` is shown, not run.

/** An element with attributes (`on*` keys add listeners) and children (strings become text nodes). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const fmt = (v) => {
  if (v === undefined || v === null || v === '') return '-';
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(5)));
};

export const time = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '-');

export function duration(ms) {
  if (ms === null || ms === undefined) return '-';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

let info;
/** Server facts (read-only or not, the CSRF token), fetched once. */
export async function serverInfo() {
  info ??= await api('/api/info');
  return info;
}

/** GET or POST the JSON API; a refusal throws an Error with the server's one-line message. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['x-csrf-token'] = (await serverInfo()).csrf_token ?? '';
  }
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw Object.assign(new Error(data.error ?? `HTTP ${res.status}`), { status: res.status });
  return data;
}

/** A table from a header and rows of cells (strings, numbers or nodes); numbers right-aligned. */
export function table(header, rows, rowAttrs = () => ({})) {
  return h('table', {},
    h('thead', {}, h('tr', {}, header.map((c) => (c instanceof Node ? c : h('th', {}, c))))),
    h('tbody', {}, rows.map((cells, i) => h('tr', rowAttrs(i), cells.map((c) => (c instanceof Node && c.tagName === 'TD' ? c : h('td', typeof c === 'number' ? { class: 'num' } : {}, typeof c === 'number' ? fmt(c) : c)))))));
}

let vega;
/** The vega builds, loaded the first time a chart is drawn: the runs table does not wait for them. */
function loadVega() {
  vega ??= ['vega.min.js', 'vega-lite.min.js', 'vega-embed.min.js'].reduce((previous, file) => previous.then(() => new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = `/vendor/${file}`;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`cannot load ${file}`));
    document.head.append(script);
  })), Promise.resolve());
  return vega;
}

/** Draws a Vega-Lite spec into `el` as SVG (so charts are in the DOM, inspectable and testable). */
export async function chart(el, spec) {
  try {
    await loadVega();
    await window.vegaEmbed(el, spec, { renderer: 'svg', actions: false });
  } catch (error) {
    fill(el, h('div', { class: 'error' }, `chart failed: ${error.message}`));
  }
}

export const runLink = (id, name) => h('a', { href: `#/run/${encodeURIComponent(id)}` }, name || id.slice(0, 8));
