// Every listed param must exist, in a file the engine can read (YAML or JSON), when the pipeline is
// read, so a typo fails before anything runs (DVC only notices at repro time). Params files that a
// stage produces need not exist yet.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { didYouMean } from '../../core/errors.js';
import { flatten, hasPath } from '../../core/flatten.js';
import { readsAsYaml, readYamlFile, type ReadRecorder, type YamlSource } from '../../core/yaml.js';
import { isWithin } from './paths.js';
import type { BuiltStage } from './stage.js';

export function checkParams(built: readonly BuiltStage[], root: string, source: YamlSource, reads: ReadRecorder): void {
  const produced = built.flatMap((b) => b.stage.outs.map((o) => o.rel));
  const loaded = new Map<string, unknown>();
  for (const b of built) {
    for (const spec of b.stage.params) {
      const at = b.params.get(spec.file)!;
      // Runs read params files with the YAML reader: any other format would fail mid-run.
      if (!readsAsYaml(spec.rel)) throw source.error(at, `unsupported params file '${spec.file}' (use YAML or JSON)${b.suffix}`);
      if (produced.some((out) => isWithin(spec.rel, out))) continue;
      const abs = join(root, spec.rel);
      if (!existsSync(abs)) throw source.error(at, `params file '${spec.file}' not found${b.suffix}`);
      // Read even when tracked whole: a YAML error in it must stop the run before it starts.
      if (!loaded.has(abs)) loaded.set(abs, readYamlFile(abs, reads).value);
      const data = loaded.get(abs);
      for (const key of spec.keys ?? []) {
        if (hasPath(data, key)) continue;
        const hint = didYouMean(key, Object.keys(flatten(data)));
        throw source.error(b.params.get(`${spec.file}:${key}`) ?? at, `param '${key}' not found in '${spec.file}'${hint ? ` (did you mean '${hint}'?)` : ''}${b.suffix}`);
      }
    }
  }
}
