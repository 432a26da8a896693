// Chart descriptions: built in Node from the project's files, embedded as JSON in the HTML page and
// drawn there by the client renderer. Plain data only, so they serialise as they are.

export type Template = 'linear' | 'scatter' | 'bar' | 'confusion';

export interface Point {
  x: number | string;
  y: number;
  /** Half-height of an error bar (a standard deviation). */
  err?: number;
  /** Tooltip text. */
  label?: string;
}

export interface Series {
  name: string;
  points: Point[];
}

interface ChartBase {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Where the data came from, shown under the chart. */
  source: string;
}

/** linear: lines through points; scatter: points; bar: one horizontal bar per x category. */
export interface XYChart extends ChartBase {
  kind: 'linear' | 'scatter' | 'bar';
  series: Series[];
}

/** counts[i][j]: how many samples of class labels[i] (actual) were predicted as labels[j]. */
export interface ConfusionChart extends ChartBase {
  kind: 'confusion';
  labels: string[];
  counts: number[][];
}

export type Chart = XYChart | ConfusionChart;

/** A chart, or the reason it could not be drawn (a missing file, a missing field). */
export type ChartResult = { chart: Chart } | { skipped: string; reason: string };
