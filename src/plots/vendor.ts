import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

// The browser builds of vega, vega-lite and vega-embed that the installed packages ship, for pages that
// must work offline (`plots show` copies them beside its page; `mlops ui` serves them). The packages'
// exports hide build/, so each is found from its package's resolved entry point.

/** The files, in the order a page loads them (vega-lite and vega-embed need vega first). */
export const VENDOR_FILES = ['vega.min.js', 'vega-lite.min.js', 'vega-embed.min.js'];

const PACKAGE_OF: Record<string, string> = { 'vega.min.js': 'vega', 'vega-lite.min.js': 'vega-lite', 'vega-embed.min.js': 'vega-embed' };

export function vendorFile(file: string): string {
  const pkg = PACKAGE_OF[file];
  if (!pkg) throw new Error(`not a vendored file: ${file}`);
  const entry = createRequire(import.meta.url).resolve(pkg);
  const marker = `${sep}node_modules${sep}${pkg}${sep}`;
  const at = entry.lastIndexOf(marker);
  return join(at >= 0 ? entry.slice(0, at + marker.length) : dirname(dirname(entry)), 'build', file);
}
