// Params files must be in a format the engine can read (YAML or JSON) and parse, when the pipeline is
// read, so a broken file fails before anything runs. A missing file or key is not an error here (as
// in DVC, `stages` and `dag` still list the stage and `status` shows it as deleted): `repro` refuses
// it before running anything (see ../params-values.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readsAsYaml, readYamlFile, type ReadRecorder, type YamlSource } from '../../core/yaml.js';
import type { BuiltStage } from './stage.js';

export function checkParams(built: readonly BuiltStage[], root: string, source: YamlSource, reads: ReadRecorder): void {
  const checked = new Set<string>();
  for (const b of built) {
    for (const spec of b.stage.params) {
      // Runs read params files with the YAML reader: any other format would fail mid-run.
      if (!readsAsYaml(spec.rel)) throw source.error(b.params.get(spec.file)!, `unsupported params file '${spec.file}' (use YAML or JSON)${b.suffix}`);
      const abs = join(root, spec.rel);
      if (checked.has(abs)) continue;
      checked.add(abs);
      // Read even when tracked whole: a YAML error in it must stop the run before it starts.
      if (existsSync(abs)) readYamlFile(abs, reads);
      else reads.record(abs); // its appearance later matters to a cached parse
    }
  }
}
