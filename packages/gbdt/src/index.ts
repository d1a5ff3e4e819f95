// Gradient-boosted decision trees in the LightGBM style: trainer, model.txt reader and writer, k-fold CV, hyperparameter search.
export { DataError, ModelFormatError, ParamError, isGbdtInputError } from './errors.js';
export {
  DECISION_CATEGORICAL_MASK,
  DECISION_DEFAULT_LEFT_MASK,
  MissingType,
  leafIndex,
  predict,
  predictRawRow,
  sigmoidOf,
} from './model.js';
export { featureImportance, formatModel, formatNumber, parseModel } from './model-text.js';
export { featuresForModel, parseCsvTable, selectColumns, splitLabel } from './table.js';
export type { Booster, FeatureMatrix, PredictOptions, Tree } from './model.js';
export type { FormatModelOptions } from './model-text.js';
export type { Table } from './table.js';
