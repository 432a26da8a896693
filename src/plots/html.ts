import type { Chart } from './chart.js';
import { renderCharts } from './client.js';

export interface SkippedChart {
  skipped: string;
  reason: string;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

// JSON inside <script>: `<` escaped so no value can close the element ("</script>") or open a comment.
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 820px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 16px; margin: 0 0 6px; }
figure { margin: 0 0 28px; padding: 14px; border: 1px solid #ddd; border-radius: 6px; }
figcaption, .notes { color: #666; font-size: 12px; }
svg { max-width: 100%; height: auto; } svg text { font: 11px sans-serif; fill: #333; }
svg .axis-label { font-size: 12px; fill: #555; }
svg .grid { stroke: #eee; } svg .err { stroke: #222; stroke-width: 1.5; }
svg .count.dark { fill: #fff; } svg .bar:hover, svg .cell:hover { opacity: 0.8; }
`;

/**
 * One self-contained page: every chart's data inline as JSON and the renderer inline as a script, so it
 * opens offline from any folder. Skipped charts are listed with their reason.
 */
export function renderHtml(title: string, charts: readonly Chart[], skipped: readonly SkippedChart[]): string {
  const figures = charts
    .map(
      (c, i) => `<figure><h2>${escapeHtml(c.title)}</h2><div id="chart-${i}"></div>` +
        `<figcaption>${escapeHtml(c.source)}</figcaption></figure>`,
    )
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
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${notes}
${figures}
<script>
(${renderCharts.toString()})(document, ${scriptJson(charts)});
</script>
</body>
</html>
`;
}
