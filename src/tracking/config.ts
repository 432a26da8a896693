// MLflow's default experiment, which every tracking folder starts with.
export const DEFAULT_EXPERIMENT_NAME = 'Default';
export const DEFAULT_EXPERIMENT_ID = '0';
