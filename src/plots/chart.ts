import type { Spec } from './templates.js';

// A chart: a Vega-Lite spec with its data inline, built in Node from the project's files and drawn by
// vega-embed in the page (`plots show`'s static page, the ui's pipeline page). Plain data only, so it
// serialises as it is.

export interface Chart {
  title: string;
  /** Where the data came from, shown under the chart. */
  source: string;
  spec: Spec;
}

/** A chart, or the reason it could not be drawn (a missing file, a missing field). */
export type ChartResult = { chart: Chart } | { skipped: string; reason: string };
