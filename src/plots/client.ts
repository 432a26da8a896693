import type { Chart, ConfusionChart, XYChart } from './chart.js';

// The browser side of `plots show`. renderCharts is embedded in the page by its source text
// (Function.prototype.toString), so it must be self-contained: no imports, no outer helpers, no
// DOM library types (the project compiles without lib.dom); the few DOM calls it makes are typed below.

interface El {
  setAttribute(name: string, value: string): void;
  appendChild(child: El): El;
  textContent: string | null;
  /** In a browser: where the element was laid out, transforms included. */
  getBoundingClientRect?(): { left: number; top: number; right: number; bottom: number; width: number; height: number };
  /** In a browser, on SVG text: its rendered width in user units. */
  getComputedTextLength?(): number;
}

export interface Doc {
  createElementNS(ns: string, tag: string): El;
  getElementById(id: string): El | null;
  readonly body: El;
}

/** Draws chart i as an SVG inside the element `chart-<i>`; marks the body `data-rendered=<count>`. */
export function renderCharts(doc: Doc, charts: Chart[]): void {
  const NS = 'http://www.w3.org/2000/svg';
  const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];
  const CHAR_W = 6.6; // approximate width of a 11px sans-serif character, for margins

  const el = (parent: El, tag: string, attrs: Record<string, string | number> = {}, text?: string): El => {
    const node = doc.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, typeof v === 'number' ? String(Math.round(v * 10) / 10) : v);
    if (text !== undefined) node.textContent = text;
    if (tag === 'text') texts.push(node);
    parent.appendChild(node);
    return node;
  };
  const tip = (node: El, text: string) => el(node, 'title', {}, text);
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4))));
  /** Every text drawn so far, for the layout check at the end of each chart. */
  let texts: El[] = [];

  /**
   * About five round tick values covering [lo, hi], each an exact multiple of the step (no `3.469e-18`
   * from adding steps up); whole numbers only when `whole`. A flat series gets a narrow band around
   * its value, not an axis from -0.5 to 2.
   */
  const ticks = (lo: number, hi: number, whole = false): number[] => {
    if (hi === lo) {
      const pad = whole ? 1 : Math.abs(lo) * 0.05 || 1;
      (lo -= pad), (hi += pad);
    }
    const raw = (hi - lo) / 5;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = Math.max(whole ? 1 : 0, [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw);
    const decimals = Math.max(0, 1 - Math.floor(Math.log10(step)));
    const out: number[] = [];
    for (let k = Math.floor(lo / step + 1e-9); ; k++) {
      const v = Number((k * step).toFixed(decimals));
      out.push(v);
      if (v >= hi - step * 1e-9) return out;
    }
  };

  /** A text's rendered width (in a browser), else an estimate from its length. */
  const widthOf = (node: El, text: string) => node.getComputedTextLength?.() || text.length * CHAR_W;

  /** Records on the SVG the box every text of the chart covers, in viewBox units, for the page's own tests. */
  const textExtent = (svg: El, width: number) => {
    const box = svg.getBoundingClientRect?.();
    if (!box || !box.width) return;
    const scale = width / box.width;
    const rects = texts.map((t) => t.getBoundingClientRect!()).filter((r) => r.width > 0);
    const edge = (pick: (r: (typeof rects)[number]) => number, base: number, f: (...v: number[]) => number) =>
      Math.round((f(...rects.map(pick)) - base) * scale);
    svg.setAttribute('data-text-extent', [
      edge((r) => r.left, box.left, Math.min), edge((r) => r.top, box.top, Math.min),
      edge((r) => r.right, box.left, Math.max), edge((r) => r.bottom, box.top, Math.max),
    ].join(' '));
  };

  const svgFor = (host: El, width: number, height: number, kind: string): El =>
    el(host, 'svg', { xmlns: NS, width, height, viewBox: `0 0 ${width} ${height}`, 'data-chart': kind, role: 'img' });

  const axisLabels = (svg: El, c: Chart, w: number, h: number, left: number, bottom: number) => {
    el(svg, 'text', { x: left + (w - left - 20) / 2, y: h - 6, 'text-anchor': 'middle', class: 'axis-label' }, c.xLabel);
    el(svg, 'text', { x: 14, y: (h - bottom) / 2, 'text-anchor': 'middle', class: 'axis-label', transform: `rotate(-90 14 ${(h - bottom) / 2})` }, c.yLabel);
  };

  /** Colour key of the series, when there is more than one. */
  const legend = (svg: El, c: XYChart, x: number, y: number) => {
    if (c.series.length < 2) return;
    c.series.forEach((s, si) => {
      el(svg, 'rect', { x, y: y + si * 16, width: 10, height: 10, fill: PALETTE[si % PALETTE.length]!, class: 'legend' });
      el(svg, 'text', { x: x + 16, y: y + 9 + si * 16, class: 'tick' }, s.name);
    });
  };

  const drawBar = (host: El, c: XYChart) => {
    const bars = c.series.flatMap((s, si) => s.points.map((p) => ({ ...p, si, name: s.name })));
    const top = 10, bottom = 44 + (c.series.length > 1 ? c.series.length * 16 : 0), rowH = 22, right = 60, plotW = 440;
    const H = top + bottom + Math.max(bars.length, 1) * rowH;
    const svg = svgFor(host, 760, H, 'bar');
    // Names down the side, measured as drawn: the chart widens to show them whole (up to 480 pixels;
    // longer ones end in `…`, whole in their tooltip).
    const names = bars.map((b, i) => {
      const label = String(b.x);
      const node = el(svg, 'text', { y: top + i * rowH + rowH / 2 + 4, 'text-anchor': 'end', class: 'tick' }, label);
      tip(node, label);
      return { node, label, width: widthOf(node, label) };
    });
    const labelW = Math.min(480, Math.max(24, ...names.map((n) => n.width)));
    for (const n of names) {
      let shown = n.label;
      while (widthOf(n.node, shown) > labelW && shown.length > 1) {
        shown = `${shown.slice(0, -2)}…`;
        n.node.textContent = shown; // drops the tooltip too: given back below
      }
      if (shown !== n.label) tip(n.node, n.label);
    }
    const left = labelW + 40, W = left + plotW + right;
    svg.setAttribute('width', String(W));
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    for (const n of names) n.node.setAttribute('x', String(left - 6));
    const max = Math.max(0, ...bars.map((b) => b.y + (b.err ?? 0)));
    const min = Math.min(0, ...bars.map((b) => b.y - (b.err ?? 0)));
    const tv = ticks(min, max);
    const lo = tv[0]!, hi = tv[tv.length - 1]!;
    const sx = (v: number) => left + ((v - lo) / (hi - lo || 1)) * (W - left - right);
    for (const t of tv) {
      el(svg, 'line', { x1: sx(t), x2: sx(t), y1: top, y2: H - bottom, class: 'grid' });
      el(svg, 'text', { x: sx(t), y: H - bottom + 14, 'text-anchor': 'middle', class: 'tick' }, fmt(t));
    }
    bars.forEach((b, i) => {
      const y = top + i * rowH;
      const label = String(b.x);
      const x0 = sx(Math.min(0, b.y)), x1 = sx(Math.max(0, b.y));
      const rect = el(svg, 'rect', { x: x0, y: y + 3, width: Math.max(1, x1 - x0), height: rowH - 6, fill: PALETTE[b.si % PALETTE.length]!, class: 'bar' });
      tip(rect, `${b.label ?? label}: ${fmt(b.y)}${b.err ? ` ± ${fmt(b.err)}` : ''}`);
      if (b.err) el(svg, 'line', { x1: sx(b.y - b.err), x2: sx(b.y + b.err), y1: y + rowH / 2, y2: y + rowH / 2, class: 'err' });
      el(svg, 'text', { x: sx(Math.max(0, b.y + (b.err ?? 0))) + 4, y: y + rowH / 2 + 4, class: 'value' }, fmt(b.y));
    });
    legend(svg, c, left, H - bottom + 24);
    axisLabels(svg, c, W, H, left, bottom);
    return { svg, W };
  };

  const drawXY = (host: El, c: XYChart) => {
    // The colour key goes under the x axis, where it cannot cover a line.
    const left = 64, right = 20, top = 16, bottom = 44 + (c.series.length > 1 ? c.series.length * 16 : 0);
    const W = 760, H = 296 + bottom;
    const svg = svgFor(host, W, H, c.kind);
    const points = c.series.flatMap((s) => s.points);
    const numericX = points.every((p) => typeof p.x === 'number');
    const categories = [...new Set(points.map((p) => String(p.x)))];
    const xs = numericX ? points.map((p) => p.x as number) : [0, Math.max(categories.length - 1, 1)];
    const xt = numericX ? ticks(Math.min(...xs), Math.max(...xs), xs.every(Number.isInteger)) : [];
    const xlo = numericX ? xt[0]! : -0.5, xhi = numericX ? xt[xt.length - 1]! : categories.length - 0.5;
    const yt = ticks(Math.min(...points.map((p) => p.y)), Math.max(...points.map((p) => p.y)));
    const ylo = yt[0]!, yhi = yt[yt.length - 1]!;
    const xv = (p: { x: number | string }) => (numericX ? (p.x as number) : categories.indexOf(String(p.x)));
    const sx = (v: number) => left + ((v - xlo) / (xhi - xlo || 1)) * (W - left - right);
    const sy = (v: number) => H - bottom - ((v - ylo) / (yhi - ylo || 1)) * (H - top - bottom);
    for (const t of yt) {
      el(svg, 'line', { x1: left, x2: W - right, y1: sy(t), y2: sy(t), class: 'grid' });
      el(svg, 'text', { x: left - 6, y: sy(t) + 4, 'text-anchor': 'end', class: 'tick' }, fmt(t));
    }
    const xTicks = numericX ? xt.map((t) => [t, fmt(t)] as const) : categories.map((name, i) => [i, name] as const);
    const every = Math.ceil(xTicks.length / 12);
    xTicks.forEach(([t, name], i) => {
      if (i % every === 0) el(svg, 'text', { x: sx(t), y: H - bottom + 16, 'text-anchor': 'middle', class: 'tick' }, name);
    });
    c.series.forEach((s, si) => {
      const colour = PALETTE[si % PALETTE.length]!;
      if (c.kind === 'linear' && s.points.length > 1) {
        const d = s.points.map((p) => `${sx(xv(p)).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
        el(svg, 'polyline', { points: d, fill: 'none', stroke: colour, 'stroke-width': 2, class: 'line' });
      }
      for (const p of s.points) {
        const dot = el(svg, 'circle', { cx: sx(xv(p)), cy: sy(p.y), r: c.kind === 'scatter' ? 4 : 3, fill: colour, class: 'point' });
        tip(dot, `${p.label ?? s.name}: ${p.x}, ${fmt(p.y)}`);
      }
    });
    legend(svg, c, left, H - bottom + 24);
    axisLabels(svg, c, W, H, left, bottom);
    return { svg, W };
  };

  const drawConfusion = (host: El, c: ConfusionChart) => {
    const n = c.labels.length;
    const labelW = Math.min(220, Math.max(...c.labels.map((l) => l.length), 4) * CHAR_W + 10);
    const cell = Math.max(28, Math.min(64, Math.floor(520 / Math.max(n, 1))));
    const left = labelW + 30, top = 10, bottom = Math.round(labelW * 0.72) + 36;
    const W = left + n * cell + 20, H = top + n * cell + bottom;
    const svg = svgFor(host, W, H, 'confusion');
    const max = Math.max(1, ...c.counts.flat());
    c.counts.forEach((row, i) =>
      row.forEach((count, j) => {
        const shade = count / max;
        const rect = el(svg, 'rect', {
          x: left + j * cell, y: top + i * cell, width: cell - 1, height: cell - 1, class: 'cell',
          fill: `rgba(78, 121, 167, ${(0.06 + 0.94 * shade).toFixed(3)})`,
        });
        tip(rect, `actual ${c.labels[i]}, predicted ${c.labels[j]}: ${fmt(count)}`);
        el(svg, 'text', {
          x: left + j * cell + cell / 2, y: top + i * cell + cell / 2 + 4, 'text-anchor': 'middle',
          class: shade > 0.5 ? 'count dark' : 'count',
        }, fmt(count));
      }),
    );
    c.labels.forEach((label, i) => {
      el(svg, 'text', { x: left - 6, y: top + i * cell + cell / 2 + 4, 'text-anchor': 'end', class: 'tick' }, label);
      const x = left + i * cell + cell / 2, y = top + n * cell + 8;
      el(svg, 'text', { x, y, 'text-anchor': 'end', class: 'tick', transform: `rotate(-45 ${x} ${y})` }, label);
    });
    axisLabels(svg, c, W, H, left, bottom);
    return { svg, W };
  };

  let rendered = 0;
  charts.forEach((chart, i) => {
    const host = doc.getElementById(`chart-${i}`);
    if (!host) return;
    try {
      texts = [];
      const { svg, W } = chart.kind === 'confusion' ? drawConfusion(host, chart) : chart.kind === 'bar' ? drawBar(host, chart) : drawXY(host, chart);
      textExtent(svg, W);
      rendered++;
    } catch (error) {
      host.setAttribute('data-error', String(error));
      host.textContent = `could not draw this chart: ${String(error)}`;
    }
  });
  doc.body.setAttribute('data-rendered', String(rendered));
}
