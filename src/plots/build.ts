import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { ConfigError } from '../core/errors.js';
import { confusionChart, CONFUSION_FILE, cvChart, CV_FILE, importanceChart, IMPORTANCE_FILE } from './builtin.js';
import type { Chart, ChartResult } from './chart.js';
import { checkTemplates, definedChart, plotFiles, type PlotDef } from './defined.js';
import { renderHtml, type SkippedChart } from './html.js';
import { runsChart } from './runs.js';
import { VENDOR_FILES, vendorFile } from './vendor.js';
import type { Tracking } from '../project/tracking.js';
import { revisionReader, WORKSPACE } from '../metrics/tree.js';
import type { DataSource } from './data.js';

export interface PlotsOptions {
  /** The pipeline's plot definitions (stage `plots:` outputs and top-level `plots:`). */
  defs?: readonly PlotDef[];
  /**
   * Every path the pipeline declares (outputs, metrics, plots): a built-in report is drawn when it is
   * one of them, and only then noted when missing. Without a pipeline, those that exist are drawn.
   */
  declared?: ReadonlySet<string>;
  /** Metric drawn across runs (default: the one most runs logged). */
  metric?: string;
  /** Where runs are recorded, for the runs chart (none: no runs chart). */
  tracking?: Tracking;
  /** A git revision to read the data files at (default: the workspace); runs are drawn only for the workspace. */
  revision?: string;
}

export interface PlotsPage {
  charts: Chart[];
  skipped: SkippedChart[];
}

const BUILTIN = [
  [CONFUSION_FILE, 'confusion matrix', confusionChart],
  [CV_FILE, 'CV scores', cvChart],
  [IMPORTANCE_FILE, 'feature importances', importanceChart],
] as const;

// A malformed data file costs its own chart only: the rest of the page is still worth having.
async function attempt(what: string, draw: () => ChartResult | Promise<ChartResult>): Promise<ChartResult> {
  try {
    return await draw();
  } catch (error) {
    if (error instanceof ConfigError) return { skipped: what, reason: error.message };
    throw error;
  }
}

/** Every chart for the project: the pipeline's definitions, then the built-in reports and the runs chart. */
export async function collectCharts(root: string, options: PlotsOptions = {}): Promise<PlotsPage> {
  const defs = options.defs ?? [];
  checkTemplates(root, defs);
  const revision = options.revision ?? WORKSPACE;
  const source: DataSource = { root, tree: await revisionReader(root, revision) };
  const tracking = revision === WORKSPACE ? options.tracking : undefined;
  const defined = new Set(defs.flatMap(plotFiles));
  const exists = async (file: string) => (await source.tree.read(file)) !== null;
  const wanted = async (file: string) => !defined.has(file) && (options.declared ? options.declared.has(file) : await exists(file));
  const builtin = (await Promise.all(BUILTIN.map(async (b) => ((await wanted(b[0])) ? [b] : [])))).flat();
  const results = await Promise.all([
    ...defs.map((def) => attempt(`plot '${def.id}'`, () => definedChart(source, def))),
    // A built-in report the pipeline already defines a plot for is not drawn twice.
    ...builtin.map(([, what, draw]) => attempt(what, () => draw(source))),
    ...(tracking ? [attempt('metric across runs', () => runsChart(tracking, options.metric))] : []),
  ]);
  return {
    charts: results.flatMap((r) => ('chart' in r ? [r.chart] : [])),
    skipped: results.flatMap((r) => ('skipped' in r ? [r] : [])),
  };
}

/** Writes the page to `<outDir>/index.html` (atomically) and returns its path and contents summary. */
export async function writePlots(root: string, outDir: string, options: PlotsOptions = {}): Promise<PlotsPage & { file: string }> {
  const page = await collectCharts(root, options);
  const dir = resolve(root, outDir);
  const file = join(dir, 'index.html');
  // The vega builds beside the page, so it draws offline; written before the page that loads them.
  for (const vendor of VENDOR_FILES) await writeFileAtomic(join(dir, vendor), await readFile(vendorFile(vendor)));
  await writeFileAtomic(file, renderHtml('mlops plots', page.charts, page.skipped));
  return { ...page, file };
}
