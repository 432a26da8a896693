// `npm run bench [suite...]`: runs each suite in turn; each prints its own figures.
const suites: Record<string, () => Promise<{ run(): Promise<void> }>> = {
  pipeline: () => import('./pipeline.js'),
  pipelines: () => import('./pipelines.js'),
  bigdir: () => import('./bigdir.js'),
  ml: () => import('./ml.js'),
  scale: () => import('./ml-scale.js'),
  'scale-e2e': () => import('./ml-e2e.js'),
  tracking: () => import('./tracking.js'),
  drift: () => import('./drift.js'),
  serve: () => import('./serve.js'),
  monitor: () => import('./monitor.js'),
  queue: () => import('./queue.js'),
  remote: () => import('./remote.js'),
  ui: () => import('./ui.js'),
};

const wanted = process.argv.slice(2);
for (const [name, load] of Object.entries(suites)) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`\n## ${name}`);
  await (await load()).run();
}
