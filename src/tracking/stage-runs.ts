import { pathToFileURL } from 'node:url';
import type { StageRun, StageTracker } from '../pipeline/executor.js';
import type { Project } from '../project/project.js';

const CMD_TAG = 'mlops.cmd';
const REASONS_TAG = 'mlops.reasons';
const EXIT_CODE_TAG = 'mlops.exit_code';
const DURATION_TAG = 'mlops.duration_s';

/**
 * Every pipeline stage that runs is a tracked run (its cmd, stage name, why it ran, duration, exit code),
 * and its environment names that run the way MLflow's client reads it: MLFLOW_TRACKING_URI,
 * MLFLOW_RUN_ID and MLFLOW_EXPERIMENT_NAME. So `mlflow.log_metric` in a user's Python stage, `mlops log`
 * in a shell stage and built-in stages (`mlops train` as a cmd) all log into the stage's run.
 */
export function stageTracker(project: Project): StageTracker {
  return {
    async start(stage): Promise<StageRun> {
      // Loaded only when a stage really runs, so a no-op repro stays fast.
      const [{ startRun }, { parseStoreUri }] = await Promise.all([import('./tracked-run.js'), import('../project/stores.js')]);
      const tracking = await project.tracking();
      const location = parseStoreUri(tracking.uri, project.root);
      const run = await startRun({
        project,
        stageName: stage.name,
        tags: { 'mlflow.source.name': stage.cmd, [CMD_TAG]: stage.cmd, [REASONS_TAG]: stage.reasons.join('; ') },
      });
      return {
        env: {
          // A folder store as a file: URI (MLflow reads a relative path from the stage's own folder).
          MLFLOW_TRACKING_URI: location.scheme === 'file' ? pathToFileURL(location.path).href : tracking.uri,
          MLFLOW_RUN_ID: run.runId,
          MLFLOW_EXPERIMENT_NAME: tracking.experiment,
        },
        async end({ status, exitCode, durationMs }) {
          await run.setTags({ [DURATION_TAG]: (durationMs / 1000).toFixed(3), ...(exitCode === undefined ? {} : { [EXIT_CODE_TAG]: String(exitCode) }) });
          await run.end(status);
        },
      };
    },
  };
}
