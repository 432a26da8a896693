// Where the built-in stages read and write, relative to the project root. The drift stage reads the
// prepared CSVs at these paths too.
export const PATHS = {
  train: 'data/prepared/train.csv',
  test: 'data/prepared/test.csv',
  transform: 'models/transform.json',
  model: 'models/model.json',
  cvResults: 'reports/cv_results.json',
  metrics: 'reports/metrics.json',
  confusion: 'reports/confusion_matrix.csv',
  importance: 'reports/feature_importance.csv',
} as const;
