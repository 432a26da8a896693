import type { Chart } from './chart.js';
import { VENDOR_FILES } from './vendor.js';

export interface SkippedChart {
  skipped: string;
  reason: string;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

// JSON inside <script>: `<` escaped so no value can close the element ("</script>") or open a comment.
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 980px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 16px; margin: 0 0 6px; }
figure { margin: 0 0 28px; padding: 14px; border: 1px solid #ddd; border-radius: 6px; overflow-x: auto; }
figcaption, .notes { color: #666; font-size: 12px; } .error { color: #b00020; }
`;

// Draws every chart with vega-embed (SVG, so the page's marks are in its DOM), then marks the body
// `data-rendered=<count>`; a chart that fails says why in place of its drawing.
const RENDER = `
(async (charts) => {
  let drawn = 0;
  await Promise.all(charts.map(async (c, i) => {
    const el = document.getElementById('chart-' + i);
    try {
      await vegaEmbed(el, c.spec, { renderer: 'svg', actions: false });
      drawn++;
    } catch (e) {
      el.setAttribute('data-error', e.message);
      el.className = 'error';
      el.textContent = 'chart failed: ' + e.message;
    }
  }));
  document.body.setAttribute('data-rendered', String(drawn));
})`;

/**
 * The page: every chart's Vega-Lite spec inline as JSON, drawn by the vega builds that sit beside it
 * (`VENDOR_FILES`), so it opens offline from any folder. Skipped charts are listed with their reason.
 */
export function renderHtml(title: string, charts: readonly Chart[], skipped: readonly SkippedChart[]): string {
  const figures = charts
    .map((c, i) => `<figure><h2>${escapeHtml(c.title)}</h2><div id="chart-${i}"></div><figcaption>${escapeHtml(c.source)}</figcaption></figure>`)
    .join('\n');
  const notes = skipped.length
    ? `<ul class="notes">${skipped.map((s) => `<li>skipped ${escapeHtml(s.skipped)}: ${escapeHtml(s.reason)}</li>`).join('')}</ul>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
${VENDOR_FILES.map((f) => `<script src="${f}"></script>`).join('\n')}
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${notes}
${figures}
<script>
${RENDER}(${scriptJson(charts.map((c) => ({ spec: c.spec })))});
</script>
</body>
</html>
`;
}
