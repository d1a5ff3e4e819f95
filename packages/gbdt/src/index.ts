// Gradient-boosted decision trees in the LightGBM style: trainer, model.txt reader and writer, k-fold CV, hyperparameter
// search; and the false-positive filter fitted with them (spec §6.2).
export { DataError, ModelFormatError, ParamError } from './errors.js';
export { accuracy, auc } from './metrics.js';
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
export {
  DEFAULT_PARAMS,
  canonicalParamName,
  parseParamAssignments,
  paramsToLightgbm,
  resolveParams,
} from './params.js';
export { featuresForModel, parseCsvTable, selectColumns, splitLabel } from './table.js';
export { GbdtTrainer, binaryLogloss, train } from './trainer.js';
export type { Booster, FeatureMatrix, PredictOptions, Tree } from './model.js';
export type { FormatModelOptions } from './model-text.js';
export type { GbdtParams } from './params.js';
export type { Table } from './table.js';
export type { IterationInfo, LabeledData, StopReason, TrainResult, TrainerOptions } from './trainer.js';
export { crossValidate, crossValidateSteps, outOfFoldPredictions, predictMean, stratifiedFolds } from './cv.js';
export { FILTER_BASE_PARAMS, UPSTREAM_FILTER_PARAMS, fitFilterSteps, trainingTable } from './filter-fit.js';
export type { FitOptions, FitResult, FitStep } from './filter-fit.js';
export { TrialState, UPSTREAM_SEARCH_SPACE, searchParams, searchSteps } from './search.js';
export type { CrossValidateOptions, CrossValidateResult } from './cv.js';
export type { SearchDimension, SearchOptions, SearchResult, Trial } from './search.js';
