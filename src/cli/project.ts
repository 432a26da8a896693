import type { Project, ProjectOptions } from '../project/project.js';

/**
 * The project a command runs in, opened once per command: the root found from the current folder
 * (or MLOPS_ROOT), and what the environment says about tracking, read here and nowhere else.
 */
export async function openProject(): Promise<Project> {
  // Loaded here, not at start-up: `mlops --help` imports none of the project code.
  const [{ projectRoot }, { Project }] = await Promise.all([import('../core/root.js'), import('../project/project.js')]);
  return Project.open(projectRoot(), projectOptions());
}

/** How the CLI opens a project: with what the environment says about tracking. */
export function projectOptions(): ProjectOptions {
  const env = process.env;
  return {
    cwd: process.cwd(),
    env: {
      // MLOPS_TRACKING_DIR: the name earlier releases read; still honoured after the two URI variables.
      uri: env.MLOPS_TRACKING_URI || env.MLFLOW_TRACKING_URI || env.MLOPS_TRACKING_DIR || undefined,
      experiment: env.MLFLOW_EXPERIMENT_NAME || undefined,
    },
    notice: (line) => process.stderr.write(`${line}\n`),
  };
}

/** The pipeline stage a built-in command runs under (set by `mlops repro` for each stage). */
export const pipelineStage = (): string | undefined => process.env.MLOPS_STAGE || undefined;

/** The run a pipeline stage runs in (MLflow's MLFLOW_RUN_ID, set by repro), if any. */
export const stageRunId = (): string | undefined => process.env.MLFLOW_RUN_ID || undefined;

/** The project's tracking store and experiment, for the commands that need nothing else. */
export async function projectTracking() {
  return (await openProject()).tracking();
}

/**
 * Every pipeline of the project, or only `file` (relative to the current folder), as DVC's
 * `metrics`/`params`/`plots` commands read them; none when the project has no pipeline file.
 */
export async function projectPipelines(file?: string) {
  const [project, { loadProject }] = await Promise.all([openProject(), import('../pipeline/load.js')]);
  // the pipelines repro sees: none searched for in the tracking folder
  const tracking = await project.trackingFolder();
  const { pipelines } = loadProject(project.root, project.cwd, { owned: tracking ? [tracking] : [], ...(file === undefined ? {} : { file: project.fromCwd(file) }) });
  return { project, root: project.root, pipelines };
}

/**
 * The AWS SDK warns on every run under Node 20 that its releases after January 2027 will need Node 22:
 * noise for a user of this tool, which supports Node 20 with the SDK it ships with.
 */
export function quietAwsSdk(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
