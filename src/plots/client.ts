import type { Chart, ConfusionChart, XYChart } from './chart.js';

// The browser side of `plots show`. renderCharts is embedded in the page by its source text
// (Function.prototype.toString), so it must be self-contained: no imports, no outer helpers, no
// DOM library types (the project compiles without lib.dom); the few DOM calls it makes are typed below.

interface El {
  setAttribute(name: string, value: string): void;
  appendChild(child: El): El;
  textContent: string | null;
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
    parent.appendChild(node);
    return node;
  };
  const tip = (node: El, text: string) => el(node, 'title', {}, text);
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4))));

  /** About five round tick values covering [lo, hi]. */
  const ticks = (lo: number, hi: number): number[] => {
    if (hi === lo) (hi = lo + 1), (lo = lo - (lo === 0 ? 0 : 1));
    const raw = (hi - lo) / 5;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
    const out: number[] = [];
    for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
    if (out[out.length - 1]! < hi) out.push(Number((out[out.length - 1]! + step).toPrecision(12)));
    return out;
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
      el(svg, 'rect', { x, y: y + si * 16, width: 10, height: 10, fill: PALETTE[si % PALETTE.length]! });
      el(svg, 'text', { x: x + 16, y: y + 9 + si * 16, class: 'tick' }, s.name);
    });
  };

  const drawBar = (host: El, c: XYChart) => {
    const bars = c.series.flatMap((s, si) => s.points.map((p) => ({ ...p, si, name: s.name })));
    const labelW = Math.min(300, Math.max(...bars.map((b) => String(b.x).length), 4) * CHAR_W + 12);
    const left = labelW + 30, right = 60, top = 10, bottom = 44 + (c.series.length > 1 ? c.series.length * 16 : 0), rowH = 22;
    const W = 760, H = top + bottom + Math.max(bars.length, 1) * rowH;
    const svg = svgFor(host, W, H, 'bar');
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
      const shown = label.length * CHAR_W > labelW ? `${label.slice(0, Math.floor(labelW / CHAR_W) - 1)}…` : label;
      tip(el(svg, 'text', { x: left - 6, y: y + rowH / 2 + 4, 'text-anchor': 'end', class: 'tick' }, shown), label);
      const x0 = sx(Math.min(0, b.y)), x1 = sx(Math.max(0, b.y));
      const rect = el(svg, 'rect', { x: x0, y: y + 3, width: Math.max(1, x1 - x0), height: rowH - 6, fill: PALETTE[b.si % PALETTE.length]!, class: 'bar' });
      tip(rect, `${b.label ?? label}: ${fmt(b.y)}${b.err ? ` ± ${fmt(b.err)}` : ''}`);
      if (b.err) el(svg, 'line', { x1: sx(b.y - b.err), x2: sx(b.y + b.err), y1: y + rowH / 2, y2: y + rowH / 2, class: 'err' });
      el(svg, 'text', { x: sx(Math.max(0, b.y + (b.err ?? 0))) + 4, y: y + rowH / 2 + 4, class: 'value' }, fmt(b.y));
    });
    legend(svg, c, left, H - bottom + 24);
    axisLabels(svg, c, W, H, left, bottom);
  };

  const drawXY = (host: El, c: XYChart) => {
    const left = 64, right = 20, top = 16, bottom = 44;
    const W = 760, H = 340;
    const svg = svgFor(host, W, H, c.kind);
    const points = c.series.flatMap((s) => s.points);
    const numericX = points.every((p) => typeof p.x === 'number');
    const categories = [...new Set(points.map((p) => String(p.x)))];
    const xs = numericX ? points.map((p) => p.x as number) : [0, Math.max(categories.length - 1, 1)];
    const xt = numericX ? ticks(Math.min(...xs), Math.max(...xs)) : [];
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
    legend(svg, c, left + 10, top + 4);
    axisLabels(svg, c, W, H, left, bottom);
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
  };

  let rendered = 0;
  charts.forEach((chart, i) => {
    const host = doc.getElementById(`chart-${i}`);
    if (!host) return;
    try {
      if (chart.kind === 'confusion') drawConfusion(host, chart);
      else if (chart.kind === 'bar') drawBar(host, chart);
      else drawXY(host, chart);
      rendered++;
    } catch (error) {
      host.setAttribute('data-error', String(error));
      host.textContent = `could not draw this chart: ${String(error)}`;
    }
  });
  doc.body.setAttribute('data-rendered', String(rendered));
}
