// Every listed param must exist when the pipeline is read, so a typo fails before anything runs
// (DVC only notices at repro time). Params files that a stage produces are not checked.
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { didYouMean } from '../../core/errors.js';
import { flatten, hasPath } from '../../core/flatten.js';
import { readYamlFile, recordSource, type YamlSource } from '../../core/yaml.js';
import { isWithin } from './paths.js';
import type { BuiltStage } from './stage.js';

export function checkParams(built: readonly BuiltStage[], root: string, source: YamlSource): void {
  const produced = built.flatMap((b) => b.stage.outs.map((o) => o.rel));
  const loaded = new Map<string, unknown>();
  for (const b of built) {
    for (const spec of b.stage.params) {
      if (produced.some((out) => isWithin(spec.rel, out))) continue;
      const at = b.params.get(spec.file)!;
      const abs = join(root, spec.rel);
      recordSource(abs); // whole-file and non-YAML params files are only looked for here
      if (!existsSync(abs)) throw source.error(at, `params file '${spec.file}' not found${b.suffix}`);
      // Key checks need a parser: YAML and JSON (JSON is YAML); other formats are taken on trust.
      if (spec.keys === null || !['.yaml', '.yml', '.json'].includes(extname(spec.rel))) continue;
      if (!loaded.has(abs)) loaded.set(abs, readYamlFile(abs).value);
      const data = loaded.get(abs);
      for (const key of spec.keys) {
        if (hasPath(data, key)) continue;
        const hint = didYouMean(key, Object.keys(flatten(data)));
        throw source.error(b.params.get(`${spec.file}:${key}`) ?? at, `param '${key}' not found in '${spec.file}'${hint ? ` (did you mean '${hint}'?)` : ''}${b.suffix}`);
      }
    }
  }
}
